"""Image-quality figures: PSNR, SSIM, PSNR on a mask or a hole, bits per pixel.

Used by the Concepts, Pooling, Reconstruction and Future directions chapters.
On the TensorFlow backend PSNR and SSIM are not re-implemented: they call
``tf.image.psnr`` and ``tf.image.ssim`` with an explicit data range.  Under
another backend, or where TensorFlow is not installed, the same formulas
run in NumPy (the same Gaussian window, constants and averaging as
``tf.image.ssim``; the tests check that both agree).
"""

import numpy as np

from cnn_tutor import _backend, _validation

__all__ = ["bits_per_pixel", "hole_psnr", "masked_psnr", "psnr", "ssim"]


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

    Raises
    ------
    ValueError
        If the batches are not 4-D, differ in shape, or ``data_range`` <= 0.

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
    reference, estimate, data_range = _pair(reference, estimate, data_range)
    if _backend.use_tensorflow():
        import tensorflow as tf

        return tf.image.psnr(reference, estimate, max_val=data_range).numpy().astype(np.float64)
    return _psnr_numpy(reference, estimate, data_range)


def _psnr_numpy(reference, estimate, data_range):
    """``10 log10(data_range^2 / MSE)`` per image, in float64 (``inf`` for identical images)."""
    difference = reference.astype(np.float64) - estimate.astype(np.float64)
    mse = np.mean(difference**2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / mse)


def ssim(reference, estimate, *, data_range=1.0, filter_size=7):
    """Structural similarity of each image (``tf.image.ssim``), in [-1, 1].

    ``filter_size`` is the Gaussian window (11 in the original paper; 7 suits
    28x28 digits; it must not exceed the image size), with standard deviation
    1.5 and the constants ``k1 = 0.01``, ``k2 = 0.03`` of Wang et al. (2004);
    the local statistics are taken over the windows that fit inside the image
    and averaged over them and over the channels.

    Examples
    --------
    >>> ref = np.random.default_rng(0).random((2, 16, 16, 1))
    >>> ssim(ref, ref).round(3)
    array([1., 1.])
    """
    reference, estimate, data_range = _pair(reference, estimate, data_range)
    filter_size = _validation.check_int("filter_size", filter_size, minimum=1)
    if filter_size > min(reference.shape[1:3]):
        raise ValueError(
            f"`filter_size` must not exceed the image height and width {reference.shape[1:3]}; received {filter_size}."
        )
    if _backend.use_tensorflow():
        import tensorflow as tf

        values = tf.image.ssim(reference, estimate, max_val=data_range, filter_size=filter_size)
        return values.numpy().astype(np.float64)
    return _ssim_numpy(reference, estimate, data_range, filter_size)


def _gaussian_window(size, sigma=1.5):
    """The ``size x size`` Gaussian window of ``tf.image.ssim``, summing to 1."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    profile = np.exp(-0.5 * coords**2 / sigma**2)
    window = np.outer(profile, profile)
    return window / window.sum()


def _ssim_numpy(reference, estimate, data_range, filter_size, k1=0.01, k2=0.03):
    """``tf.image.ssim`` in NumPy: local means and (co)variances over the windows that fit ("valid")."""
    window = _gaussian_window(filter_size)
    x, y = reference.astype(np.float64), estimate.astype(np.float64)

    def local_mean(image):
        patches = np.lib.stride_tricks.sliding_window_view(image, (filter_size, filter_size), axis=(1, 2))
        return np.einsum("bhwcij,ij->bhwc", patches, window, optimize=True)

    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mean_x, mean_y = local_mean(x), local_mean(y)
    num0, den0 = 2.0 * mean_x * mean_y, mean_x**2 + mean_y**2
    luminance = (num0 + c1) / (den0 + c1)
    num1, den1 = 2.0 * local_mean(x * y), local_mean(x**2 + y**2)
    structure = (num1 - num0 + c2) / (den1 - den0 + c2)
    return (luminance * structure).mean(axis=(1, 2)).mean(axis=-1)


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
    mask = _validation.check_mask("mask", mask, reference)
    counts = mask.sum(axis=(1, 2, 3)) * reference.shape[-1]
    if np.any(counts == 0):
        raise ValueError("`mask` must mark at least one pixel in every image; some images have an empty mask.")
    squared = ((reference - estimate) ** 2 * mask).sum(axis=(1, 2, 3)) / counts
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / squared.astype(np.float64))


def hole_psnr(reference, estimate, mask, *, data_range=1.0):
    """PSNR over the masked pixels of the whole batch together (one number, in dB).

    Per-image PSNR on a hole is infinite when a box falls on empty
    background and any method fills it exactly; pooling the squared errors of
    every hole pixel of the batch first gives one finite, comparable figure.
    It is :func:`masked_psnr` of the batch stacked into one tall image.

    Parameters
    ----------
    reference, estimate : array_like
        ``(batch, height, width, channels)``, same shape.
    mask : array_like
        ``(batch, height, width, 1)``, 1 on the hole.
    data_range : float
        As in :func:`psnr`.

    Returns
    -------
    float

    Examples
    --------
    >>> ref = np.zeros((2, 4, 4, 1)); est = ref.copy(); est[1, :2] = 0.1
    >>> mask = np.zeros((2, 4, 4, 1)); mask[:, :2] = 1
    >>> round(hole_psnr(ref, est, mask), 2)
    23.01
    """
    reference, estimate, data_range = _pair(reference, estimate, data_range)
    mask = _validation.check_mask("mask", mask, reference)

    def tall(array):
        return array.reshape(1, -1, *array.shape[2:])

    return float(masked_psnr(tall(reference), tall(estimate), tall(mask), data_range=data_range)[0])


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
