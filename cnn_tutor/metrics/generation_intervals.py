"""The classifier score, the Frechet distance and the kernel distance of generated images, with intervals.

:func:`generation_report` computes the three scores of
:mod:`cnn_tutor.metrics.generation` once from the judge's features and
probabilities, and their intervals from resampling the generated and the real
images (bootstrap for the classifier score and the kernel distance, a normal
interval around the estimate for the Frechet distance, whose bootstrap
resamples are biased upwards).

Used by the Generation by denoising chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation
from cnn_tutor.metrics.generation import (
    _check_generated,
    _check_probabilities,
    _feature_model,
    _kernel_distance_from_matrices,
    _polynomial_kernel,
    classifier_score,
    frechet_distance,
)

__all__ = [
    "GenerationReport",
    "ScoreInterval",
    "generation_report",
]


class ScoreInterval(typing.NamedTuple):
    """A measured value with a bootstrap confidence interval."""

    value: float
    low: float
    high: float

    def __str__(self):
        return f"{self.value:.3g} [{self.low:.3g}, {self.high:.3g}]"


class GenerationReport(typing.NamedTuple):
    """What :func:`generation_report` returns: every score with its bootstrap interval."""

    #: :func:`classifier_score` of the images.
    score: ScoreInterval
    #: :func:`frechet_distance` to the real images' features.
    frechet: ScoreInterval
    #: :func:`kernel_distance` to the real images' features.
    kernel: ScoreInterval
    #: The judge's class probabilities of each image, ``(n, classes)``.
    probabilities: np.ndarray
    #: The judge's penultimate-layer features of each image, ``(n, features)``.
    features: np.ndarray

    @property
    def predicted(self):
        """The predicted class of each image."""
        return self.probabilities.argmax(axis=1)


def _weighted_score(p, counts, eps=1e-12):
    weights = counts / counts.sum(axis=1, keepdims=True)
    p_y = weights @ p
    log_p = np.log(p + eps)
    kl = (p * log_p).sum(axis=1)[None, :] - (p @ np.log(p_y + eps).T).T
    return np.exp((weights * kl).sum(axis=1))


def _weighted_frechet(f_a, c_a, f_b, c_b, ridge):
    import scipy.linalg

    def moments(f, c):
        n = c.sum()
        mu = c @ f / n
        centred = f - mu
        return mu, (centred * c[:, None]).T @ centred / (n - 1) + ridge * np.eye(f.shape[1])

    mu_a, cov_a = moments(f_a, c_a)
    mu_b, cov_b = moments(f_b, c_b)
    root = np.real(scipy.linalg.sqrtm(cov_a @ cov_b))
    return max(float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root)), 0.0)


def generation_report(
    model, images, real_images, *, num_resamples=200, level=0.95, rng=0, ridge=1e-6, degree=3, batch_size=500
):
    """Classifier score, Frechet distance and kernel distance of ``images``, each with a bootstrap interval.

    The judge runs once on each set.  Each bootstrap resample draws the
    generated images and the real images with replacement (independently)
    and recomputes the three scores.  For the classifier score and the
    kernel distance the interval is the central ``level`` share of the
    resampled values (a percentile interval); for the kernel distance a
    resample counts only pairs of *different* original images, so repeated
    draws do not bias it.  The Frechet distance is biased upwards by a term
    that grows as the number of distinct samples falls, and a resample holds
    only about 63% distinct samples, so every resampled distance is shifted
    up and a percentile interval can miss the estimate altogether.  Its
    interval is therefore the estimate plus or minus ``z`` bootstrap standard
    errors (the normal interval, ``z = 1.96`` for 95%): it says how much the
    value moves with the draw of samples, not where the bias-free population
    value lies.

    Parameters
    ----------
    model : keras.Model
        The trained classifier that judges the images.
    images : array_like
        Generated images ``(n, height, width, channels)`` in [0, 1].
    real_images : array_like
        Real held-out images in [0, 1].
    num_resamples : int
        Bootstrap resamples (>= 10).
    level : float
        Coverage of the interval, in (0, 1).
    rng : int or numpy.random.Generator or None
        The resampling's randomness.
    ridge : float
        See :func:`frechet_distance`.
    degree : int
        See :func:`kernel_distance`.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    GenerationReport
    """
    import keras
    import scipy.stats

    images = _check_generated("images", images, model)
    real_images = _check_generated("real_images", real_images, model)
    for name, batch in (("images", images), ("real_images", real_images)):
        if len(batch) < 2:
            raise ValueError(f"`{name}` needs at least 2 images to estimate a covariance; received {len(batch)}.")
    num_resamples = _validation.check_int("num_resamples", num_resamples, minimum=10)
    level = _validation.check_float("level", level, minimum=0.0, maximum=1.0)
    if not 0 < level < 1:
        raise ValueError(f"`level` must lie strictly between 0 and 1; received {level}.")
    generator = _validation.as_rng("rng", rng)
    ridge = _validation.check_float("ridge", ridge, minimum=0.0)
    degree = _validation.check_int("degree", degree, minimum=1)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    probe = _feature_model(model, None)
    both = keras.Model(model.input, [probe.output, model.output])
    features, probabilities = both.predict(images, batch_size=batch_size, verbose=0)
    features = np.asarray(features, dtype=np.float64)
    probabilities = _check_probabilities(np.asarray(probabilities, dtype=np.float64))
    real_features = np.asarray(probe.predict(real_images, batch_size=batch_size, verbose=0), dtype=np.float64)

    n, m = len(features), len(real_features)
    counts_a = np.stack([np.bincount(generator.integers(0, n, n), minlength=n) for _ in range(num_resamples)])
    counts_b = np.stack([np.bincount(generator.integers(0, m, m), minlength=m) for _ in range(num_resamples)])
    counts_a, counts_b = counts_a.astype(np.float64), counts_b.astype(np.float64)
    kernel = lambda x, y: _polynomial_kernel(x, y, degree, 1.0)  # noqa: E731
    k_aa, k_bb, k_ab = kernel(features, features), kernel(real_features, real_features), kernel(features, real_features)

    def interval(value, resampled):
        low, high = np.quantile(resampled, [(1 - level) / 2, (1 + level) / 2])
        return ScoreInterval(float(value), float(low), float(high))

    frechets = [_weighted_frechet(features, ca, real_features, cb, ridge) for ca, cb in zip(counts_a, counts_b)]
    frechet = frechet_distance(features, real_features, ridge=ridge)
    half_width = float(scipy.stats.norm.ppf((1 + level) / 2) * np.std(frechets, ddof=1))
    return GenerationReport(
        score=interval(classifier_score(probabilities), _weighted_score(probabilities, counts_a)),
        frechet=ScoreInterval(frechet, max(frechet - half_width, 0.0), frechet + half_width),
        kernel=interval(
            _kernel_distance_from_matrices(k_aa, k_bb, k_ab),
            _kernel_distance_from_matrices(k_aa, k_bb, k_ab, counts_a, counts_b),
        ),
        probabilities=probabilities,
        features=features,
    )
