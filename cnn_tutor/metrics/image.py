"""Image-quality figures: PSNR, SSIM (wrapping ``tf.image``), masked PSNR, bits per pixel.

Used by the Concepts and Reconstruction chapters.  PSNR and SSIM are not
re-implemented: they call ``tf.image.psnr`` and ``tf.image.ssim`` with an
explicit data range.
"""

import numpy as np

from cnn_tutor import _validation

__all__ = ["bits_per_pixel", "masked_psnr", "psnr", "ssim"]


def _pair(reference, estimate, data_range):
    reference = _validation.check_images("reference", reference, value_range=None)
    estimate = _validation.check_images("estimate", estimate, value_range=None)
    _validation.check_same_shape("reference", reference, "estimate", estimate)
    data_range = _validation.check_float("data_range", data_range)
    if data_range <= 0:
        raise ValueError(f"`data_range` must be > 0; received {data_range}.")
    return reference, estimate, data_range


def psnr(reference, estimate, *, data_range=1.0):
    """Peak signal-to-noise ratio of each image, in dB (``tf.image.psnr``).

    ``PSNR = 10 log10(data_range**2 / MSE)``; identical images give ``inf``.

    Parameters
    ----------
    reference, estimate : array_like
        ``(batch, height, width, channels)``, same shape.
    data_range : float
        The distance between the smallest and largest possible pixel value
        (1.0 for the book's [0, 1] images, 255 for uint8 images).

    Returns
    -------
    numpy.ndarray
        float64 ``(batch,)``.

    Examples
    --------
    >>> ref = np.zeros((1, 8, 8, 1), dtype=np.float32)
    >>> est = ref + 0.1
    >>> psnr(ref, est).round(2)
    array([20.])
    >>> psnr(ref, est[..., :4, :])
    Traceback (most recent call last):
    ...
    ValueError: `reference` and `estimate` must have the same shape; received (1, 8, 8, 1) and (1, 8, 4, 1).
    """
    import tensorflow as tf

    reference, estimate, data_range = _pair(reference, estimate, data_range)
    return tf.image.psnr(reference, estimate, max_val=data_range).numpy().astype(np.float64)


def ssim(reference, estimate, *, data_range=1.0, filter_size=7):
    """Structural similarity of each image (``tf.image.ssim``), in [-1, 1].

    ``filter_size`` is the Gaussian window (11 in the original paper; 7 suits
    28x28 digits; it must not exceed the image size).

    Examples
    --------
    >>> ref = np.random.default_rng(0).random((2, 16, 16, 1))
    >>> ssim(ref, ref).round(3)
    array([1., 1.])
    """
    import tensorflow as tf

    reference, estimate, data_range = _pair(reference, estimate, data_range)
    filter_size = _validation.check_int("filter_size", filter_size, minimum=1)
    if filter_size > min(reference.shape[1:3]):
        raise ValueError(
            f"`filter_size` must not exceed the image height and width {reference.shape[1:3]}; received {filter_size}."
        )
    values = tf.image.ssim(reference, estimate, max_val=data_range, filter_size=filter_size)
    return values.numpy().astype(np.float64)


def masked_psnr(reference, estimate, mask, *, data_range=1.0):
    """PSNR of each image over the pixels where ``mask`` is 1 only (the filled hole).

    Parameters
    ----------
    reference, estimate : array_like
        ``(batch, height, width, channels)``, same shape.
    mask : array_like
        ``(batch, height, width, 1)`` of 0s and 1s; 1 marks the pixels to score.

    Examples
    --------
    >>> ref = np.zeros((1, 4, 4, 1)); est = ref.copy(); est[0, :2] = 0.1
    >>> mask = np.zeros((1, 4, 4, 1)); mask[0, :2] = 1
    >>> masked_psnr(ref, est, mask).round(2)
    array([20.])
    """
    reference, estimate, data_range = _pair(reference, estimate, data_range)
    mask = _validation.as_float_array("mask", mask)
    if mask.ndim == 0:
        raise ValueError(f"`mask` must be an array of shape {reference.shape[:3] + (1,)}; received the scalar {mask!r}.")
    expected = reference.shape[:3] + (1,)
    if mask.shape != expected:
        raise ValueError(f"`mask` must have shape {expected}; received {mask.shape}.")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("`mask` must be binary (only 0 and 1); received other values.")
    counts = mask.sum(axis=(1, 2, 3)) * reference.shape[-1]
    if np.any(counts == 0):
        raise ValueError("`mask` must mark at least one pixel in every image; some images have an empty mask.")
    squared = ((reference - estimate) ** 2 * mask).sum(axis=(1, 2, 3)) / counts
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / squared.astype(np.float64))


def bits_per_pixel(num_bytes, num_pixels):
    """Bits per pixel of a compressed representation: ``8 * num_bytes / num_pixels``.

    Examples
    --------
    >>> bits_per_pixel(98, 784)
    1.0
    """
    num_bytes = _validation.check_float("num_bytes", num_bytes, minimum=0.0)
    num_pixels = _validation.check_float("num_pixels", num_pixels)
    if num_pixels <= 0:
        raise ValueError(f"`num_pixels` must be > 0; received {num_pixels}.")
    return 8.0 * num_bytes / num_pixels
