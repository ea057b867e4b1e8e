"""Uncertainty of a comparison: paired bootstrap intervals over test images.

Two methods scored on the same test images are compared image by image: the
per-image differences are resampled with replacement (the same draw for
every array, so the pairing is kept) and the statistic recomputed on each
resample; the 2.5% and 97.5% quantiles of those values bound a 95%
interval (the percentile bootstrap, Efron and Tibshirani 1993).  A margin
whose interval contains 0 is no margin.

With few test images (six photographs) the percentile interval is rough and
tends to be too narrow; it still says more than a point estimate.

Used by the Photographs chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = ["Interval", "mean_difference", "paired_bootstrap"]


class Interval(typing.NamedTuple):
    """A point estimate with its bootstrap interval."""

    #: The statistic on the full sample.
    estimate: float
    #: Lower end of the interval.
    low: float
    #: Upper end of the interval.
    high: float
    #: Coverage of the interval, for example 0.95.
    confidence: float

    def __str__(self):
        return f"{self.estimate:.2f} [{self.low:.2f}, {self.high:.2f}]"


def paired_bootstrap(statistic, *samples, num_resamples=2000, confidence=0.95, rng=0):
    """Percentile bootstrap interval of ``statistic(*samples)``, resampling the first axis of all samples together.

    Parameters
    ----------
    statistic : callable
        ``statistic(*resampled) -> float``.
    *samples : array_like
        One or more arrays with the same length along axis 0 (one entry per
        test image); row ``i`` of every array is resampled together.
    num_resamples : int
        Bootstrap resamples.
    confidence : float
        Coverage, in (0, 1).
    rng : int, numpy.random.Generator or None
        Seed or generator of the resampling.

    Returns
    -------
    Interval
        ``(estimate, low, high, confidence)``; resamples where the
        statistic is not finite are left out (and if more than 1% of them
        are, ``ValueError``).

    Raises
    ------
    ValueError
        If no sample is given, the lengths differ, or a sample is empty.

    Examples
    --------
    >>> a = np.array([30.0, 31.0, 29.0, 32.0]); b = a - 1.0
    >>> paired_bootstrap(lambda x, y: np.mean(x - y), a, b)
    Interval(estimate=1.0, low=1.0, high=1.0, confidence=0.95)
    >>> paired_bootstrap(np.mean, [1.0, 2.0], [1.0])
    Traceback (most recent call last):
    ...
    ValueError: `samples` must all have the same length along axis 0 (one entry per test image); received lengths [2, 1].
    """
    if not callable(statistic):
        raise TypeError(f"`statistic` must be callable; received {type(statistic).__name__}.")
    if not samples:
        raise ValueError("`samples` must hold at least one sample to resample; received none.")
    arrays = [_validation.as_float_array(f"samples[{i}]", sample) for i, sample in enumerate(samples)]
    for index, array in enumerate(arrays):
        if np.isnan(array).any():
            positions = np.argwhere(np.isnan(array))[:5].tolist()
            raise ValueError(
                f"`samples[{index}]` must not contain NaN (a score that was not computed); received NaN at {positions}."
            )
    lengths = [len(array) if array.ndim else 0 for array in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(
            "`samples` must all have the same length along axis 0 (one entry per test image); "
            f"received lengths {lengths}."
        )
    if lengths[0] == 0:
        raise ValueError("`samples` must not be empty; received samples of length 0.")
    num_resamples = _validation.check_int("num_resamples", num_resamples, minimum=1)
    confidence = _validation.check_float("confidence", confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"`confidence` must lie strictly between 0 and 1; received {confidence}.")
    rng = _validation.as_rng("rng", rng)
    estimate = float(statistic(*arrays))
    indices = rng.integers(0, lengths[0], size=(num_resamples, lengths[0]))
    values = np.array([float(statistic(*(array[row] for array in arrays))) for row in indices])
    finite = np.isfinite(values)
    if finite.mean() < 0.99:
        raise ValueError(
            f"the statistic was not finite on {int((~finite).sum())} of {num_resamples} resamples; "
            "it cannot be bootstrapped as it is."
        )
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values[finite], [tail, 1.0 - tail])
    return Interval(estimate, float(low), float(high), confidence)


def mean_difference(scores, baseline, **options):
    """Mean of ``scores - baseline`` over test images, with its paired bootstrap interval.

    Parameters
    ----------
    scores, baseline : array_like
        ``(images,)`` per-image scores of two methods on the same images
        (PSNR in dB, SSIM...).
    **options
        ``num_resamples``, ``confidence``, ``rng`` of :func:`paired_bootstrap`.

    Examples
    --------
    >>> interval = mean_difference([31.0, 30.5, 29.0, 33.0], [30.0, 30.0, 29.5, 32.0])
    >>> interval.estimate, interval.low < interval.estimate < interval.high
    (0.5, True)
    """
    scores = _validation.as_float_array("scores", scores)
    baseline = _validation.as_float_array("baseline", baseline)
    _validation.check_same_shape("scores", scores, "baseline", baseline)
    if scores.ndim != 1:
        raise ValueError(f"`scores` must be 1-D, one value per test image; received shape {scores.shape}.")
    return paired_bootstrap(lambda a, b: np.mean(a - b), scores, baseline, **options)
