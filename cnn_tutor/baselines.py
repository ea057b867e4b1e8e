"""The classical methods the learned models must beat: denoising filters, inpainting, interpolation.

No learning: each function applies a fixed, well-known method from SciPy,
scikit-image or Keras's image ops to a batch in the book's convention and
returns NumPy float32 images in [0, 1].

- :func:`classical_denoise`: Gaussian blur, median filter, total variation,
  non-local means (:data:`DENOISERS`); :func:`tone_curve`, a point-wise
  intensity curve, and :func:`denoise_and_tone`, a filter followed by it
  (the cheap pipeline for nearly binary images such as digits);
- :func:`classical_inpaint`: mean fill and biharmonic inpainting
  (:data:`INPAINTERS`);
- :func:`upsample`: nearest, bilinear and bicubic interpolation
  (:data:`UPSAMPLERS`);
- for photographs, tuned pipelines at a known noise level: :func:`denoise`
  (non-local means, wavelet shrinkage with cycle spinning, total variation,
  parameters in units of ``sigma``, grids :data:`DENOISE_GRIDS`) and
  :func:`upsample_sharpen` (bicubic or Lanczos interpolation and an unsharp
  mask ``x + amount * (x - G_radius * x)``, grid :data:`UPSAMPLE_GRID`);
  :func:`tune` picks their parameters on training images over a printed grid
  (never on test images).

This module is the home of every baseline of the book, and of their tuning
on training data (a baseline is a pipeline with parameters chosen on data,
as hard as the model it is compared with).

Used by the Concepts, Reconstruction, Photographs and Future directions chapters.
"""

import itertools
import typing

import numpy as np

from cnn_tutor import _validation

__all__ = [
    "DENOISERS",
    "DENOISE_GRIDS",
    "INPAINTERS",
    "Tuning",
    "UPSAMPLERS",
    "UPSAMPLE_GRID",
    "classical_denoise",
    "classical_inpaint",
    "denoise",
    "denoise_and_tone",
    "format_tuning",
    "tone_curve",
    "tune",
    "upsample",
    "upsample_sharpen",
]

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


def tone_curve(images, gain=1.0, threshold=0.5):
    """A point-wise intensity curve: ``clip(0.5 + gain * (v - threshold), 0, 1)`` for every pixel value ``v``.

    With ``gain > 1`` it pushes values below ``threshold`` towards black and
    values above it towards white: the prior "the image is nearly binary",
    which suits digits (a network trained on them learns it too).
    ``gain=1, threshold=0.5`` is the identity on [0, 1].

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    gain : float
        Slope of the curve (>= 0).
    threshold : float
        The value mapped to 0.5.

    Returns
    -------
    numpy.ndarray
        float32, same shape, in [0, 1].

    Examples
    --------
    >>> tone_curve(np.array([0.1, 0.3, 0.5, 0.7]).reshape(1, 2, 2, 1), gain=2.0, threshold=0.4).ravel()
    array([0. , 0.3, 0.7, 1. ], dtype=float32)
    >>> tone_curve(np.zeros((1, 2, 2, 1)), gain=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: `gain` must be >= 0.0; received -1.0.
    """
    images = _validation.check_images("images", images)
    gain = _validation.check_float("gain", gain, minimum=0.0)
    threshold = _validation.check_float("threshold", threshold)
    return np.clip(0.5 + gain * (images.astype(np.float64) - threshold), 0.0, 1.0).astype(np.float32)


def denoise_and_tone(images, method, *, gain=1.0, threshold=0.5, **options):
    """:func:`classical_denoise` followed by :func:`tone_curve`: a two-stage classical pipeline.

    Tune ``gain``, ``threshold`` and the filter's option on training
    pairs with :func:`tune`.

    Examples
    --------
    >>> noisy = np.random.default_rng(0).random((2, 8, 8, 1))
    >>> out = denoise_and_tone(noisy, "gaussian", sigma=1.0, gain=3.0, threshold=0.5)
    >>> bool(np.array_equal(out, tone_curve(classical_denoise(noisy, "gaussian", sigma=1.0), 3.0, 0.5)))
    True
    """
    return tone_curve(classical_denoise(images, method, **options), gain=gain, threshold=threshold)


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


# Photographs: tuned classical pipelines.
#: Parameter grids of :func:`denoise`, searched by :func:`tune` (``h`` and ``weight`` in units of sigma).
DENOISE_GRIDS = {
    "nl_means": {"h": (0.4, 0.5, 0.6, 0.8), "patch_size": (5, 7), "patch_distance": (6,)},
    "wavelet": {"rule": ("BayesShrink", "VisuShrink"), "wavelet": ("db2", "sym8"), "sigma_scale": (0.75, 1.0, 1.25)},
    "tv": {"weight": (0.5, 1.0, 1.5, 2.0, 3.0)},
}
#: Parameter grid of :func:`upsample_sharpen`.
UPSAMPLE_GRID = {
    "interpolation": ("bicubic", "lanczos3"),
    "radius": (0.5, 1.0, 2.0),
    "amount": (0.0, 0.25, 0.5, 1.0),
}


def _one_worker():
    """``cycle_spin``'s argument for a single worker: ``workers`` from scikit-image 0.26, ``num_workers`` before."""
    import inspect

    import skimage.restoration

    parameters = inspect.signature(skimage.restoration.cycle_spin).parameters
    return {"workers": 1} if "workers" in parameters else {"num_workers": 1}


_ONE_WORKER = _one_worker()


def denoise(images, method, sigma, **params):
    """Denoise grey images at a known noise level with a classical method.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, 1)`` in [0, 1] (noisy values outside are allowed).
    method : {"nl_means", "wavelet", "tv"}
    sigma : float
        The noise's standard deviation on the [0, 1] scale (25 / 255 for sigma 25).
    **params
        ``nl_means``: ``h`` (filter strength in units of sigma), ``patch_size``,
        ``patch_distance``; ``wavelet``: ``rule`` (``BayesShrink`` or
        ``VisuShrink``), ``wavelet``, ``sigma_scale`` (the sigma passed, in
        units of the true one), ``max_shifts`` (cycle spinning, default 2);
        ``tv``: ``weight`` in units of sigma.  Missing ones take the first
        value of :data:`DENOISE_GRIDS`.

    Returns
    -------
    numpy.ndarray
        float32, same shape, clipped to [0, 1].

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> clean = np.tile(np.linspace(0, 1, 32), (32, 1))[None, ..., None]
    >>> noisy = clean + rng.normal(0, 0.1, clean.shape)
    >>> out = denoise(noisy, "tv", 0.1, weight=1.0)
    >>> bool(np.mean((out - clean) ** 2) < np.mean((noisy - clean) ** 2))
    True
    >>> denoise(noisy, "bm3d", 0.1)
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of 'nl_means', 'wavelet', 'tv'; received 'bm3d'.
    """
    import skimage.restoration as restoration

    images = _validation.check_images("images", images, channels=1, value_range=None)
    _validation.check_choice("method", method, tuple(DENOISE_GRIDS))
    sigma = _validation.check_float("sigma", sigma)
    if sigma <= 0:
        raise ValueError(f"`sigma` must be > 0 (the noise level on the [0, 1] scale); received {sigma}.")
    grid = DENOISE_GRIDS[method]
    unknown = set(params) - set(grid) - {"max_shifts"}
    if unknown:
        raise TypeError(f"unknown parameter(s) {sorted(unknown)} for method {method!r}; expected some of {sorted(grid)}.")
    params = {**{key: values[0] for key, values in grid.items()}, **params}
    out = np.empty_like(images)
    for index, image in enumerate(images[..., 0].astype(np.float64)):
        if method == "nl_means":
            result = restoration.denoise_nl_means(
                image, h=params["h"] * sigma, sigma=sigma, patch_size=int(params["patch_size"]),
                patch_distance=int(params["patch_distance"]), fast_mode=True,
            )
        elif method == "wavelet":
            options = dict(sigma=params["sigma_scale"] * sigma, method=params["rule"], wavelet=params["wavelet"],
                           mode="soft", rescale_sigma=True)
            result = restoration.cycle_spin(
                image, restoration.denoise_wavelet, max_shifts=int(params.get("max_shifts", 2)), func_kw=options,
                **_ONE_WORKER,
            )
        else:
            result = restoration.denoise_tv_chambolle(image, weight=params["weight"] * sigma)
        out[index, ..., 0] = result
    return np.clip(out, 0.0, 1.0)


def upsample_sharpen(images, factor, *, interpolation="bicubic", radius=1.0, amount=0.0):
    """Enlarge images ``factor`` times by interpolation, then sharpen with an unsharp mask.

    ``out = u + amount * (u - gaussian(u, radius))`` with ``u`` the
    interpolated image (``keras.ops.image.resize``, half-pixel centres, the
    grid of :func:`cnn_tutor.data.downsample`), clipped to [0, 1].
    ``amount=0`` is plain interpolation.

    Examples
    --------
    >>> small = np.random.default_rng(0).random((1, 4, 4, 1))
    >>> upsample_sharpen(small, 3, amount=0.5).shape
    (1, 12, 12, 1)
    >>> upsample_sharpen(small, 2, interpolation="cubic")
    Traceback (most recent call last):
    ...
    ValueError: `interpolation` must be one of 'bicubic', 'lanczos3'; received 'cubic'.
    """
    import keras
    import scipy.ndimage

    images = _validation.check_images("images", images)
    factor = _validation.check_int("factor", factor, minimum=1)
    _validation.check_choice("interpolation", interpolation, UPSAMPLE_GRID["interpolation"])
    radius = _validation.check_float("radius", radius, minimum=0.0)
    amount = _validation.check_float("amount", amount, minimum=0.0)
    size = (images.shape[1] * factor, images.shape[2] * factor)
    up = keras.ops.convert_to_numpy(keras.ops.image.resize(images, size, interpolation=interpolation))
    up = np.asarray(up, dtype=np.float64)
    if amount > 0 and radius > 0:
        blurred = scipy.ndimage.gaussian_filter(up, sigma=(0, radius, radius, 0))
        up = up + amount * (up - blurred)
    return np.clip(up, 0.0, 1.0).astype(np.float32)


class Tuning(typing.NamedTuple):
    """What :func:`tune` returns."""

    #: The parameters with the highest mean PSNR.
    best: dict
    #: The mean PSNR (dB) of the best parameters.
    best_psnr: float
    #: Every tried ``(parameters, mean PSNR)``, in grid order.
    table: list


def tune(method, inputs, targets, grid, *, score=None):
    """Try every combination of ``grid`` on training pairs and keep the one with the best mean PSNR.

    Parameters
    ----------
    method : callable
        ``method(inputs, **params) -> estimates``, for example
        ``lambda x, **p: denoise(x, "tv", sigma, **p)``.
    inputs, targets : array_like
        Degraded and clean *training* images, ``(batch, height, width, 1)``.
    grid : dict
        ``{name: sequence of values}``.
    score : callable, optional
        ``score(targets, estimates) -> per-image values``; default PSNR.

    Returns
    -------
    Tuning

    Examples
    --------
    >>> clean = np.full((2, 8, 8, 1), 0.5)
    >>> result = tune(lambda x, gain: np.clip(x * gain, 0, 1), clean * 0.5, clean, {"gain": (1.0, 2.0, 3.0)})
    >>> result.best, [round(row[1], 1) for row in result.table][:2]
    ({'gain': 2.0}, [12.0, inf])
    """
    from cnn_tutor.metrics.image import psnr

    if not callable(method):
        raise TypeError(f"`method` must be callable; received {type(method).__name__}.")
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"`grid` must be a non-empty dict of {{name: values}}; received {grid!r}.")
    score = psnr if score is None else score
    names = list(grid)
    table = []
    for values in itertools.product(*(grid[name] for name in names)):
        params = dict(zip(names, values))
        table.append((params, float(np.mean(score(targets, method(inputs, **params))))))
    best_params, best_score = max(table, key=lambda row: row[1])
    return Tuning(best_params, best_score, table)


def format_tuning(tuning, *, label=""):
    """The grid of a :class:`Tuning` as printable lines, the best row marked with ``*``.

    Examples
    --------
    >>> print(format_tuning(Tuning({"w": 2}, 30.0, [({"w": 1}, 29.5), ({"w": 2}, 30.0)]), label="tv"))
    tv  w=1  29.50 dB
    tv  w=2  30.00 dB *
    """
    if not isinstance(tuning, Tuning):
        raise TypeError(f"`tuning` must be a Tuning from tune(); received {type(tuning).__name__}.")
    lines = []
    for params, value in tuning.table:
        text = " ".join(f"{key}={val}" for key, val in params.items())
        mark = " *" if params == tuning.best else ""
        lines.append(f"{label}  {text}  {value:.2f} dB{mark}" if label else f"{text}  {value:.2f} dB{mark}")
    return "\n".join(lines)
