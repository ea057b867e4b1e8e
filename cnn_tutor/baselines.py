"""The classical methods the learned models must beat: denoising filters, inpainting, interpolation.

No learning: each function applies a fixed, well-known method from SciPy,
scikit-image or Keras's image ops to a batch in the book's convention and
returns NumPy float32 images in [0, 1].

- :func:`classical_denoise`: Gaussian blur, median filter, total variation,
  non-local means (:data:`DENOISERS`);
- :func:`classical_inpaint`: mean fill and biharmonic inpainting
  (:data:`INPAINTERS`);
- :func:`upsample`: nearest, bilinear and bicubic interpolation
  (:data:`UPSAMPLERS`).

This module is the home of every baseline of the book, and of their tuning
on training data (a baseline is a pipeline with parameters chosen on data,
as hard as the model it is compared with).

Used by the Concepts, Reconstruction and Future directions chapters.
"""

import numpy as np

from cnn_tutor import _validation

__all__ = ["DENOISERS", "INPAINTERS", "UPSAMPLERS", "classical_denoise", "classical_inpaint", "upsample"]

#: Classical denoisers of :func:`classical_denoise`.
DENOISERS = ("gaussian", "median", "tv", "nl_means")
#: Classical inpainting methods of :func:`classical_inpaint`.
INPAINTERS = ("mean", "biharmonic")
#: Interpolation methods of :func:`upsample`.
UPSAMPLERS = ("nearest", "bilinear", "bicubic")


def classical_denoise(images, method, **options):
    """Denoise each image with a classical filter (no learning).

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    method : {"gaussian", "median", "tv", "nl_means"}
        ``gaussian``: ``scipy.ndimage.gaussian_filter`` (``sigma``, default 1);
        ``median``: ``scipy.ndimage.median_filter`` (``size``, default 3);
        ``tv``: ``skimage.restoration.denoise_tv_chambolle`` (``weight``,
        default 0.1); ``nl_means``: ``skimage.restoration.denoise_nl_means``
        (``sigma``, the noise level, default 0.1, and ``h``, default 0.8 of it).
    **options
        Passed to the filter.

    Returns
    -------
    numpy.ndarray
        float32, same shape, clipped to [0, 1].

    Examples
    --------
    >>> noisy = np.random.default_rng(0).random((2, 8, 8, 1))
    >>> classical_denoise(noisy, "median").shape
    (2, 8, 8, 1)
    >>> classical_denoise(noisy, "bilateral")
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of 'gaussian', 'median', 'tv', 'nl_means'; received 'bilateral'.
    """
    import scipy.ndimage
    import skimage.restoration

    images = _validation.check_images("images", images)
    _validation.check_choice("method", method, DENOISERS)
    out = np.empty_like(images)
    for index, image in enumerate(images):
        if method == "gaussian":
            sigma = options.get("sigma", 1.0)
            result = scipy.ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0))
        elif method == "median":
            size = options.get("size", 3)
            result = scipy.ndimage.median_filter(image, size=(size, size, 1))
        elif method == "tv":
            result = skimage.restoration.denoise_tv_chambolle(image, weight=options.get("weight", 0.1), channel_axis=-1)
        else:
            noise = options.get("sigma", 0.1)
            result = skimage.restoration.denoise_nl_means(
                image, h=options.get("h", 0.8) * noise, sigma=noise, patch_size=options.get("patch_size", 3),
                patch_distance=options.get("patch_distance", 5), fast_mode=True, channel_axis=-1,
            )
        out[index] = np.asarray(result, dtype=np.float32).reshape(image.shape)
    return np.clip(out, 0.0, 1.0)


def classical_inpaint(images, mask, method="biharmonic"):
    """Fill the pixels where ``mask`` is 1 without learning.

    ``mean`` writes the mean of each image's known pixels into the hole;
    ``biharmonic`` solves the biharmonic equation inside it
    (``skimage.restoration.inpaint_biharmonic``), the smoothest surface that
    meets the known pixels at the border.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    mask : array_like
        ``(batch, height, width, 1)``, 1 where a pixel is missing.
    method : {"mean", "biharmonic"}

    Returns
    -------
    numpy.ndarray
        float32, same shape; the known pixels are unchanged.

    Examples
    --------
    >>> images = np.full((1, 6, 6, 1), 0.5, dtype=np.float32)
    >>> mask = np.zeros((1, 6, 6, 1)); mask[0, 2:4, 2:4] = 1
    >>> float(classical_inpaint(images, mask, "mean")[0, 3, 3, 0])
    0.5
    >>> classical_inpaint(images, mask[..., 0])
    Traceback (most recent call last):
    ...
    ValueError: `mask` must have shape (1, 6, 6, 1) (one channel, 1 = missing); received (1, 6, 6).
    """
    import skimage.restoration

    images = _validation.check_images("images", images)
    mask = _validation.check_mask("mask", mask, images)
    _validation.check_choice("method", method, INPAINTERS)
    out = images.copy()
    for index, image in enumerate(images):
        hole = mask[index, ..., 0].astype(bool)
        if not hole.any():
            continue
        if method == "mean":
            out[index][hole] = image[~hole].mean(axis=0)
        else:
            filled = skimage.restoration.inpaint_biharmonic(image, hole, channel_axis=-1)
            out[index] = np.where(hole[..., None], filled, image)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def upsample(images, factor, method="bicubic"):
    """Enlarge images by an integer ``factor`` by interpolation (no learning).

    ``keras.ops.image.resize`` does the work, which is ``tf.image.resize`` on
    the TensorFlow backend (and ``jax.image.resize`` on JAX).  The pixel grid
    is the one of :func:`cnn_tutor.data.downsample` (half-pixel centres), so
    ``upsample(downsample(x, r), r)`` is aligned with ``x``.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    factor : int
        Magnification (>= 1).
    method : {"nearest", "bilinear", "bicubic"}
        The interpolation.

    Returns
    -------
    numpy.ndarray
        float32 ``(batch, height * factor, width * factor, channels)``,
        clipped to [0, 1] (bicubic interpolation overshoots at edges).

    Examples
    --------
    >>> upsample(np.ones((1, 3, 4, 1)), 2, "nearest").shape
    (1, 6, 8, 1)
    >>> upsample(np.ones((1, 3, 4, 1)), 2, "lanczos")
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of 'nearest', 'bilinear', 'bicubic'; received 'lanczos'.
    """
    import keras

    images = _validation.check_images("images", images)
    factor = _validation.check_int("factor", factor, minimum=1)
    _validation.check_choice("method", method, UPSAMPLERS)
    size = (images.shape[1] * factor, images.shape[2] * factor)
    resized = keras.ops.convert_to_numpy(keras.ops.image.resize(images, size, interpolation=method))
    return np.clip(resized, 0.0, 1.0).astype(np.float32)
