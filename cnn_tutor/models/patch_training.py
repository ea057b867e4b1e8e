"""Training a restoration network on photo patches, with a fresh degradation for every batch.

A network that sees the same noisy copy of each patch in every epoch can
learn that copy; drawing new noise (and a new noise level) for every batch
gives it as many different training pairs as it has steps.
:func:`train_on_patches` runs a compiled Keras model on random batches of
clean patches, each degraded on the fly by a function such as
:func:`noise_pairs` (blind Gaussian denoising over a range of levels) or
:func:`downsample_pairs` (super-resolution).

Used by the Photographs chapter.
"""

import numpy as np

from cnn_tutor import _validation

__all__ = ["downsample_pairs", "noise_pairs", "train_on_patches"]


def noise_pairs(sigma_range):
    """A degradation for :func:`train_on_patches`: Gaussian noise, its level drawn per patch from ``sigma_range``.

    The noise is not clipped (as in DnCNN's benchmark): its mean stays 0.

    Parameters
    ----------
    sigma_range : (float, float)
        Smallest and largest standard deviation on the [0, 1] scale.

    Returns
    -------
    callable
        ``degrade(clean, rng) -> (noisy, clean)``.

    Examples
    --------
    >>> degrade = noise_pairs((0.1, 0.1))
    >>> noisy, clean = degrade(np.zeros((64, 8, 8, 1), "float32"), np.random.default_rng(0))
    >>> round(float(noisy.std()), 2)
    0.1
    """
    if not isinstance(sigma_range, (tuple, list)) or len(sigma_range) != 2:
        raise ValueError(f"`sigma_range` must be a pair (smallest, largest); received {sigma_range!r}.")
    low = _validation.check_float("sigma_range[0]", sigma_range[0], minimum=0.0)
    high = _validation.check_float("sigma_range[1]", sigma_range[1], minimum=low)

    def degrade(clean, rng):
        sigma = rng.uniform(low, high, size=(len(clean), 1, 1, 1))
        return (clean + sigma * rng.standard_normal(clean.shape)).astype(np.float32), clean

    return degrade


def downsample_pairs(factor):
    """A degradation for :func:`train_on_patches`: the patch averaged over ``factor x factor`` blocks.

    Examples
    --------
    >>> small, large = downsample_pairs(2)(np.ones((1, 4, 4, 1), "float32"), None)
    >>> small.shape, large.shape
    ((1, 2, 2, 1), (1, 4, 4, 1))
    """
    from cnn_tutor.data import downsample

    factor = _validation.check_int("factor", factor, minimum=1)

    def degrade(clean, rng):
        return downsample(clean, factor), clean

    return degrade


def train_on_patches(model, patches, degrade, *, steps, batch_size=32, rng=0):
    """Train a compiled model on random batches of ``patches``, each degraded afresh by ``degrade``.

    Parameters
    ----------
    model : keras.Model
        A compiled model (for example from
        :func:`cnn_tutor.models.restoration.build_conv_denoiser`).
    patches : array_like
        Clean patches ``(n, size, size, channels)`` in [0, 1].
    degrade : callable
        ``degrade(clean_batch, rng) -> (inputs, targets)``.
    steps : int
        Optimiser steps (from ``rt.budget(...)``).
    batch_size : int
        Patches per step.
    rng : int or numpy.random.Generator
        Seeds the batches and the degradations.

    Returns
    -------
    numpy.ndarray
        The training loss of every step, float64 ``(steps,)``.

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 3, padding="same")])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> losses = train_on_patches(model, np.zeros((8, 8, 8, 1), "float32"), noise_pairs((0.1, 0.2)), steps=3)
    >>> losses.shape
    (3,)
    """
    patches = _validation.check_images("patches", patches)
    if not callable(degrade):
        raise TypeError(f"`degrade` must be callable, like noise_pairs(...); received {type(degrade).__name__}.")
    steps = _validation.check_int("steps", steps, minimum=1)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    rng = _validation.as_rng("rng", rng)
    losses = np.empty(steps)
    for step in range(steps):
        inputs, targets = degrade(patches[rng.integers(0, len(patches), size=batch_size)], rng)
        losses[step] = float(np.asarray(model.train_on_batch(inputs, targets)).ravel()[0])
    return losses
