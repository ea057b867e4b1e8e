"""Does a generator copy its training data?  Nearest neighbours and a memorisation check.

- :func:`nearest_neighbours`: the Euclidean distance from each query image to
  its nearest reference image (exact, in batches);
- :func:`memorisation_check`: are the samples closer to their nearest
  training images than real unseen images are?  A generator that copies its
  training set puts many samples nearer to a training image than almost any
  held-out image comes.

Used by the Generation by denoising chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = [
    "MemorisationCheck",
    "Neighbours",
    "memorisation_check",
    "nearest_neighbours",
]


def _flatten(name, images):
    array = _validation.as_float_array(name, images).astype(np.float64)
    if array.ndim < 2:
        raise ValueError(f"`{name}` must be a batch (images or feature vectors); received shape {array.shape}.")
    if len(array) == 0:
        raise ValueError(f"`{name}` must hold at least one item; received an empty batch.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return array.reshape(len(array), -1)


class Neighbours(typing.NamedTuple):
    """What :func:`nearest_neighbours` returns."""

    #: Euclidean distance from each query to its nearest reference.
    distances: np.ndarray
    #: Index of that reference.
    indices: np.ndarray


def nearest_neighbours(queries, references, *, batch_size=1000):
    """The nearest reference of every query, by Euclidean distance (images are flattened).

    Parameters
    ----------
    queries, references : array_like
        Batches of images ``(n, height, width, channels)`` or of feature
        vectors ``(n, features)``, of the same size per item.
    batch_size : int
        Queries compared at once (memory: ``batch_size x len(references)``).

    Returns
    -------
    Neighbours

    Examples
    --------
    >>> found = nearest_neighbours([[0.0, 0.1], [2.9, 4.0]], [[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    >>> found.indices.tolist(), np.round(found.distances, 3).tolist()
    ([0, 1], [0.1, 0.1])
    """
    q = _flatten("queries", queries)
    r = _flatten("references", references)
    if q.shape[1] != r.shape[1]:
        raise ValueError(
            f"`queries` and `references` must have the same size per item; received {q.shape[1]} and {r.shape[1]} values."
        )
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    r_sq = (r**2).sum(axis=1)
    distances, indices = np.empty(len(q)), np.empty(len(q), dtype=np.int64)
    for start in range(0, len(q), batch_size):
        chunk = q[start : start + batch_size]
        squared = (chunk**2).sum(axis=1)[:, None] - 2.0 * chunk @ r.T + r_sq[None, :]
        best = squared.argmin(axis=1)
        indices[start : start + len(chunk)] = best
        distances[start : start + len(chunk)] = np.sqrt(np.maximum(squared[np.arange(len(chunk)), best], 0.0))
    return Neighbours(distances, indices)


class MemorisationCheck(typing.NamedTuple):
    """What :func:`memorisation_check` returns."""

    #: Distance from each sample to its nearest training image.
    sample_distances: np.ndarray
    #: Index of that training image.
    sample_neighbours: np.ndarray
    #: Distance from each held-out real image to its nearest training image.
    held_out_distances: np.ndarray
    #: ``median(sample_distances) / median(held_out_distances)``: about 1 or
    #: more for a generator that makes new images, well below 1 for one that copies.
    median_ratio: float
    #: The ``quantile`` of the held-out distances: closer than this is "near-copy".
    threshold: float
    #: Share of the samples closer than ``threshold`` (about ``quantile`` if no copying).
    copy_share: float


def memorisation_check(samples, training_images, held_out_images, *, quantile=0.01):
    """Does a generator copy its training images?  Its samples' nearest training images, against real ones'.

    A real image that the generator never saw is at some typical distance
    from its nearest training image; a copied sample is much closer.  The
    check compares the distribution of the samples' nearest-neighbour
    distances (in pixels) with that of held-out real images.  A generator
    that memorised its data would score like real digits on the classifier
    score and the Frechet distance, so those need this check beside them.

    Parameters
    ----------
    samples : array_like
        Generated images ``(n, height, width, channels)``.
    training_images : array_like
        The images the generator was trained on.
    held_out_images : array_like
        Real images it never saw (the test digits).
    quantile : float
        Which quantile of the held-out distances counts as "near-copy", in (0, 1).

    Returns
    -------
    MemorisationCheck

    Examples
    --------
    Samples that are training images plus a little noise are far closer to
    them than fresh real images are:

    >>> rng = np.random.default_rng(0)
    >>> train, held_out = rng.random((50, 4, 4, 1)), rng.random((50, 4, 4, 1))
    >>> copies = np.clip(train[:20] + 0.01 * rng.standard_normal((20, 4, 4, 1)), 0, 1)
    >>> check = memorisation_check(copies, train, held_out)
    >>> bool(check.median_ratio < 0.1), check.copy_share
    (True, 1.0)
    """
    quantile = _validation.check_float("quantile", quantile, minimum=0.0, maximum=1.0)
    if not 0 < quantile < 1:
        raise ValueError(f"`quantile` must lie strictly between 0 and 1; received {quantile}.")
    samples = _flatten("samples", samples)
    training_images = _flatten("training_images", training_images)
    held_out_images = _flatten("held_out_images", held_out_images)
    for name, batch in (("samples", samples), ("held_out_images", held_out_images)):
        if batch.shape[1] != training_images.shape[1]:
            raise ValueError(
                f"`{name}` and `training_images` must hold images of the same size; received "
                f"{batch.shape[1]} and {training_images.shape[1]} values per image."
            )
    samples_found = nearest_neighbours(samples, training_images)
    held_out_found = nearest_neighbours(held_out_images, training_images)
    threshold = float(np.quantile(held_out_found.distances, quantile))
    return MemorisationCheck(
        sample_distances=samples_found.distances,
        sample_neighbours=samples_found.indices,
        held_out_distances=held_out_found.distances,
        median_ratio=float(np.median(samples_found.distances) / np.median(held_out_found.distances)),
        threshold=threshold,
        copy_share=float(np.mean(samples_found.distances < threshold)),
    )
