"""Classical photo restoration as tuned pipelines: denoisers and interpolation with sharpening.

A learned model is only as impressive as the best classical method a
practitioner would try first, *tuned as hard*.  Each method here takes its
parameters as arguments, and :func:`tune` picks them on training images
over a printed grid (never on test images):

- denoising (去噪) at a known noise level ``sigma``: non-local means
  (``skimage.restoration.denoise_nl_means``), wavelet shrinkage with cycle
  spinning (``denoise_wavelet`` averaged over shifts, ``cycle_spin``) and
  total variation (``denoise_tv_chambolle``), each with the parameters a
  practitioner would adjust, in units of ``sigma``;
- super-resolution (超分辨率): interpolation (bicubic or Lanczos) followed by
  an unsharp mask, ``x + amount * (x - G_radius * x)``, which restores some
  of the contrast that averaging the low-resolution pixels removed.

Used by the Photographs chapter.
"""

import itertools
import typing

import numpy as np

from cnn_tutor import _validation

__all__ = [
    "DENOISE_GRIDS",
    "UPSAMPLE_GRID",
    "Tuning",
    "denoise",
    "format_tuning",
    "tune",
    "upsample_sharpen",
]

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
