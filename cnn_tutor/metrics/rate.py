"""Rate-distortion curves of real files, and the Bjontegaard delta between two curves.

- :func:`standard_roundtrip` writes each image as a JPEG, WebP or AVIF file
  with Pillow and reads it back, counting the whole file and, separately,
  its coded payload (the file less its container and tables; see
  :func:`payload_bytes`);
- :class:`RDCurve` holds per-image bytes and PSNR at each setting of a codec
  (a quality, or a model of a rate sweep); :func:`standard_curve` measures
  one for a standard codec, and :func:`curve_from_files` builds one from
  any codec's files and decoded images;
- :func:`bd_psnr` and :func:`bd_rate` summarise two curves by Bjontegaard's
  delta (VCEG-M33, 2001): fit each curve, PSNR against log-rate, with a
  cubic, and average the gap over the rates both cover (BD-PSNR, dB), or
  fit log-rate against PSNR and average the rate ratio over the PSNR range
  both cover (BD-rate, percent; negative means fewer bytes for the same
  quality);
- :func:`bd_interval` bootstraps either over the test images, paired.

Used by the Photographs chapter.
"""

import io
import typing

import numpy as np

from cnn_tutor import _validation
from cnn_tutor.metrics.compression import jpeg_scan_bytes
from cnn_tutor.metrics.intervals import paired_bootstrap

__all__ = [
    "STANDARD_CODECS",
    "CodecResult",
    "RDCurve",
    "bd_interval",
    "bd_psnr",
    "bd_rate",
    "curve_from_files",
    "payload_bytes",
    "standard_curve",
    "standard_roundtrip",
]

#: Codecs of :func:`standard_roundtrip`, with Pillow's format name and quality range.
STANDARD_CODECS = {"jpeg": ("JPEG", 1, 95), "webp": ("WEBP", 0, 100), "avif": ("AVIF", 0, 100)}


def _riff_payload(data):
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("`data` is not a WebP file (it must start with RIFF....WEBP).")
    position, payload = 12, 0
    while position + 8 <= len(data):
        fourcc, size = data[position : position + 4], int.from_bytes(data[position + 4 : position + 8], "little")
        if fourcc in (b"VP8 ", b"VP8L"):
            payload += size
        position += 8 + size + (size & 1)
    if payload == 0:
        raise ValueError("`data` is not a well-formed WebP file: no VP8 or VP8L chunk.")
    return payload


def _isobmff_payload(data):
    position, payload, seen = 0, 0, False
    while position + 8 <= len(data):
        size, kind = int.from_bytes(data[position : position + 4], "big"), data[position + 4 : position + 8]
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:
            size = len(data) - position
        if size < header:
            raise ValueError(f"`data` is not a well-formed AVIF file: a box of {size} bytes at byte {position}.")
        if kind == b"mdat":
            payload += size - header
            seen = True
        position += size
    if not seen or data[4:8] != b"ftyp":
        raise ValueError("`data` is not an AVIF file (ISO base media boxes with ftyp and mdat).")
    return payload


def payload_bytes(data, codec):
    """Bytes of coded image data in a file, without its container and tables.

    - ``jpeg``: the entropy-coded scan (quantisation and Huffman tables,
      markers and the JFIF header excluded);
    - ``webp``: the ``VP8 `` (or ``VP8L``) chunk (the RIFF container excluded);
    - ``avif``: the ``mdat`` box's content, the AV1 bitstream (the ISO
      boxes describing it excluded).

    Examples
    --------
    >>> import PIL.Image
    >>> buffer = io.BytesIO(); PIL.Image.new("L", (16, 16), 128).save(buffer, format="WEBP")
    >>> data = buffer.getvalue(); 0 < payload_bytes(data, "webp") < len(data)
    True
    >>> payload_bytes(b"RIFF" + bytes(8), "webp")
    Traceback (most recent call last):
    ...
    ValueError: `data` is not a WebP file (it must start with RIFF....WEBP).
    """
    _validation.check_choice("codec", codec, tuple(STANDARD_CODECS))
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"`data` must be the bytes of a {codec.upper()} file; received {data!r} of type {type(data).__name__}.")
    data = bytes(data)
    if codec == "jpeg":
        return jpeg_scan_bytes(data)
    if codec == "webp":
        return _riff_payload(data)
    return _isobmff_payload(data)


class CodecResult(typing.NamedTuple):
    """What :func:`standard_roundtrip` returns."""

    #: Decoded images, float32 in [0, 1], shaped like the input.
    decoded: np.ndarray
    #: Size of each whole file, in bytes (int64 ``(batch,)``).
    file_bytes: np.ndarray
    #: Size of each file's coded payload (:func:`payload_bytes`).
    payload_bytes: np.ndarray


def standard_roundtrip(images, codec, quality, **options):
    """Write each image as a JPEG, WebP or AVIF file with Pillow, read it back, and count its bytes.

    Grey images are written as one-channel (``L``) images; JPEG and AVIF
    store them as one plane, WebP (always YUV 4:2:0) with flat chroma, which
    costs a few bytes.  Decoded WebP files are converted back to grey.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, 1 or 3)`` in [0, 1]; stored as 8-bit.
    codec : {"jpeg", "webp", "avif"}
    quality : int
        Pillow's quality (JPEG 1-95, WebP and AVIF 0-100).
    **options
        Passed to Pillow's writer; the defaults are JPEG ``optimize=True``
        (optimised Huffman tables), WebP ``method=6`` (its slowest, best
        setting), AVIF ``speed=6``.

    Returns
    -------
    CodecResult

    Examples
    --------
    >>> images = np.random.default_rng(0).random((2, 32, 32, 1)).round(1)
    >>> result = standard_roundtrip(images, "avif", 50)
    >>> result.decoded.shape, bool(np.all(result.payload_bytes < result.file_bytes))
    ((2, 32, 32, 1), True)
    >>> standard_roundtrip(images, "png", 50)
    Traceback (most recent call last):
    ...
    ValueError: `codec` must be one of 'jpeg', 'webp', 'avif'; received 'png'.
    """
    import PIL.Image

    images = _validation.check_images("images", images)
    _validation.check_choice("codec", codec, tuple(STANDARD_CODECS))
    if images.shape[-1] not in (1, 3):
        raise ValueError(f"`images` must have 1 or 3 channels; received shape {images.shape}.")
    fmt, lowest, highest = STANDARD_CODECS[codec]
    quality = _validation.check_int("quality", quality, minimum=lowest)
    if quality > highest:
        raise ValueError(f"`quality` must be <= {highest} for {codec}; received {quality}.")
    defaults = {"jpeg": {"optimize": True}, "webp": {"method": 6}, "avif": {"speed": 6}}[codec]
    options = {**defaults, **options}
    decoded = np.empty_like(images)
    file_bytes = np.empty(len(images), dtype=np.int64)
    payload = np.empty(len(images), dtype=np.int64)
    for index, image in enumerate(images):
        pixels = np.round(image * 255).astype(np.uint8)
        picture = PIL.Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
        buffer = io.BytesIO()
        picture.save(buffer, format=fmt, quality=quality, **options)
        data = buffer.getvalue()
        file_bytes[index] = len(data)
        payload[index] = payload_bytes(data, codec)
        restored = PIL.Image.open(io.BytesIO(data))
        restored = restored.convert("L" if image.shape[-1] == 1 else "RGB")
        decoded[index] = (np.asarray(restored, dtype=np.float32) / 255.0).reshape(image.shape)
    return CodecResult(decoded, file_bytes, payload)


class RDCurve(typing.NamedTuple):
    """Per-image sizes and qualities of one codec at several settings (one curve)."""

    #: The codec's name.
    name: str
    #: The settings, one per point (qualities, or rate weights).
    settings: tuple
    #: int64 ``(images, points)``: whole files, in bytes.
    file_bytes: np.ndarray
    #: int64 ``(images, points)``: coded payloads (files less headers), in bytes.
    payload_bytes: np.ndarray
    #: float64 ``(images, points)``: PSNR of each decoded image, in dB.
    psnr: np.ndarray
    #: int64 ``(images,)``: pixels of each image.
    pixels: np.ndarray

    def bpp(self, *, headers=True):
        """Bits per pixel of each image at each point, ``(images, points)``; headers counted or not."""
        counted = self.file_bytes if headers else self.payload_bytes
        return 8.0 * counted / self.pixels[:, None]

    def mean_curve(self, *, headers=True, images=None):
        """The curve averaged over images (mean bpp, mean PSNR at each point), over ``images`` (indices) if given."""
        rows = slice(None) if images is None else np.asarray(images)
        return self.bpp(headers=headers)[rows].mean(axis=0), self.psnr[rows].mean(axis=0)


def standard_curve(images, codec, qualities, **options):
    """The rate-distortion curve of a standard codec on ``images`` at each quality (:func:`standard_roundtrip`).

    Examples
    --------
    >>> images = np.random.default_rng(0).random((2, 16, 16, 1)).round(1)
    >>> curve = standard_curve(images, "jpeg", (10, 50))
    >>> curve.file_bytes.shape, bool(np.all(np.diff(curve.psnr, axis=1) > 0))
    ((2, 2), True)
    """
    from cnn_tutor.metrics.image import psnr

    images = _validation.check_images("images", images)
    _validation.check_choice("codec", codec, tuple(STANDARD_CODECS))
    _, lowest, highest = STANDARD_CODECS[codec]
    qualities = _validation.int_sequence("qualities", qualities, minimum=lowest, example=(10, 50, 90))
    if max(qualities) > highest:
        raise ValueError(f"`qualities` must be <= {highest} for {codec}; received {list(qualities)}.")
    results = [standard_roundtrip(images, codec, quality, **options) for quality in qualities]
    return RDCurve(
        name=codec,
        settings=tuple(qualities),
        file_bytes=np.stack([r.file_bytes for r in results], axis=1),
        payload_bytes=np.stack([r.payload_bytes for r in results], axis=1),
        psnr=np.stack([psnr(images, r.decoded) for r in results], axis=1),
        pixels=np.full(len(images), images.shape[1] * images.shape[2], dtype=np.int64),
    )


def curve_from_files(name, settings, images, files, decoded, *, header_bytes):
    """An :class:`RDCurve` from any codec's files: ``files[p][i]`` and ``decoded[p][i]`` for point ``p``, image ``i``.

    Parameters
    ----------
    name : str
        The codec's name.
    settings : sequence
        One setting per point.
    images : sequence of array_like
        The original images ``(height, width, channels)`` (sizes may differ).
    files : sequence of sequence of bytes
        ``files[p][i]``: the file of image ``i`` at point ``p``.
    decoded : sequence of sequence of array_like
        The decoded images, same layout.
    header_bytes : int
        Bytes of each file that are header (not payload).

    Examples
    --------
    >>> image = np.zeros((4, 4, 1)); files = [[bytes(10)], [bytes(20)]]
    >>> curve = curve_from_files("toy", (1, 2), [image], files, [[image + 0.1], [image + 0.01]], header_bytes=5)
    >>> curve.bpp().tolist(), curve.bpp(headers=False).tolist(), curve.psnr.round(1).tolist()
    ([[5.0, 10.0]], [[2.5, 7.5]], [[20.0, 40.0]])
    """
    from cnn_tutor.metrics.image import psnr

    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty string (the codec's name); received {name!r}.")
    header_bytes = _validation.check_int("header_bytes", header_bytes, minimum=0)
    if isinstance(settings, (str, bytes)) or not isinstance(settings, (list, tuple)) or not settings:
        raise TypeError(f"`settings` must be a non-empty list or tuple, one setting per point; received {settings!r}.")
    settings = tuple(settings)
    images = _file_images(images)
    for label, value in (("files", files), ("decoded", decoded)):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise TypeError(f"`{label}` must be a list with one list per setting; received {value!r}.")
        for point, entries in enumerate(value):
            if isinstance(entries, (str, bytes)) or not isinstance(entries, (list, tuple)):
                raise TypeError(f"`{label}[{point}]` must be a list with one entry per image; received {entries!r}.")
    if len(files) != len(settings) or len(decoded) != len(settings):
        raise ValueError(
            f"`files` and `decoded` must hold one list per entry of `settings` ({len(settings)}); "
            f"received {len(files)} and {len(decoded)}."
        )
    count = len(images)
    sizes = np.empty((count, len(settings)), dtype=np.int64)
    scores = np.empty((count, len(settings)))
    for point, (point_files, point_images) in enumerate(zip(files, decoded)):
        if len(point_files) != count or len(point_images) != count:
            raise ValueError(f"`files[{point}]` and `decoded[{point}]` must hold one entry per image ({count}).")
        for index, (data, estimate) in enumerate(zip(point_files, point_images)):
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"`files[{point}][{index}]` must be the bytes of a file; received {data!r}.")
            if len(data) < header_bytes:
                raise ValueError(
                    f"`files[{point}][{index}]` must be at least `header_bytes` ({header_bytes}) long; received "
                    f"{len(data)} bytes."
                )
            sizes[index, point] = len(data)
            estimate = _validation.as_float_array(f"decoded[{point}][{index}]", estimate)
            if estimate.shape != images[index].shape:
                raise ValueError(
                    f"`decoded[{point}][{index}]` must have the shape of `images[{index}]` {images[index].shape}; "
                    f"received shape {estimate.shape}."
                )
            reference = images[index].astype(np.float32)[None]
            scores[index, point] = psnr(reference, estimate.astype(np.float32)[None])[0]
    pixels = np.array([image.shape[0] * image.shape[1] for image in images], dtype=np.int64)
    return RDCurve(name, settings, sizes, sizes - header_bytes, scores, pixels)


def _file_images(images):
    """The original images of :func:`curve_from_files`: a non-empty list of ``(height, width, channels)`` arrays."""
    if isinstance(images, (str, bytes)) or not isinstance(images, (list, tuple, np.ndarray)):
        raise TypeError(f"`images` must be a list of (height, width, channels) arrays; received {images!r}.")
    if not len(images):
        raise ValueError("`images` must hold at least one image; received an empty list.")
    checked = []
    for index, image in enumerate(images):
        array = _validation.as_float_array(f"images[{index}]", image)
        if array.ndim != 3 or 0 in array.shape:
            raise ValueError(
                f"`images[{index}]` must be a non-empty (height, width, channels) array; received shape {array.shape}."
            )
        checked.append(array)
    return checked


def _curve(name, rates, psnrs):
    rates = _validation.as_float_array(f"{name}_rates", rates).ravel()
    psnrs = _validation.as_float_array(f"{name}_psnr", psnrs).ravel()
    _validation.check_same_shape(f"{name}_rates", rates, f"{name}_psnr", psnrs)
    if rates.size < 4:
        raise ValueError(f"`{name}_rates` must hold at least 4 points for a cubic fit; received {rates.size}.")
    if np.any(rates <= 0) or not np.all(np.isfinite(rates)):
        raise ValueError(f"`{name}_rates` must be positive and finite; received {rates.tolist()}.")
    if not np.all(np.isfinite(psnrs)):
        raise ValueError(f"`{name}_psnr` must be finite; received {psnrs.tolist()}.")
    order = np.argsort(rates)
    return np.log(rates[order]), psnrs[order]


def _mean_gap(x_anchor, y_anchor, x_test, y_test, method, what):
    low = max(x_anchor.min(), x_test.min())
    high = min(x_anchor.max(), x_test.max())
    if not low < high:
        names, shown = ("`anchor_rates` and `test_rates`", np.exp) if what == "rate" else ("`anchor_psnr` and `test_psnr`", float)
        raise ValueError(
            f"{names} must overlap (BD averages over their common {what} range); received the ranges "
            f"[{shown(x_anchor.min()):.4g}, {shown(x_anchor.max()):.4g}] and [{shown(x_test.min()):.4g}, {shown(x_test.max()):.4g}]."
        )
    if method == "cubic":
        integrals = []
        for x, y in ((x_anchor, y_anchor), (x_test, y_test)):
            antiderivative = np.polyint(np.polyfit(x, y, 3))
            integrals.append(np.polyval(antiderivative, high) - np.polyval(antiderivative, low))
    else:
        import scipy.interpolate

        integrals = []
        for x, y in ((x_anchor, y_anchor), (x_test, y_test)):
            if np.any(np.diff(x) <= 0):
                raise ValueError(f"method='pchip' needs strictly increasing {what} along each curve.")
            integrals.append(scipy.interpolate.PchipInterpolator(x, y).integrate(low, high))
    return (integrals[1] - integrals[0]) / (high - low)


def bd_psnr(anchor_rates, anchor_psnr, test_rates, test_psnr, *, method="cubic"):
    """Bjontegaard delta PSNR: the mean PSNR gain of ``test`` over ``anchor`` at equal rate, in dB.

    Each curve is fitted as PSNR against ``log(rate)`` and the gap between
    the fits is averaged over the log-rates both curves cover.

    Parameters
    ----------
    anchor_rates, anchor_psnr : array_like
        The anchor's points (bits per pixel or bytes, and dB); at least 4.
    test_rates, test_psnr : array_like
        The tested codec's points, in the same units.
    method : {"cubic", "pchip"}
        ``cubic``: a least-squares cubic through all points (Bjontegaard
        2001); ``pchip``: a piecewise cubic Hermite interpolant, which does
        not oscillate (needs strictly increasing rates).

    Returns
    -------
    float
        Positive when ``test`` gives a higher PSNR at the same rate.

    Examples
    --------
    >>> rates = [0.1, 0.2, 0.4, 0.8]
    >>> round(bd_psnr(rates, [25, 28, 31, 34], rates, [26, 29, 32, 35]), 6)
    1.0
    >>> bd_psnr(rates, [25, 28, 31, 34], [1.0, 2.0, 3.0, 4.0], [25, 28, 31, 34])
    Traceback (most recent call last):
    ...
    ValueError: `anchor_rates` and `test_rates` must overlap (BD averages over their common rate range); received
    the ranges [0.1, 0.8] and [1, 4].
    """
    _validation.check_choice("method", method, ("cubic", "pchip"))
    x_a, y_a = _curve("anchor", anchor_rates, anchor_psnr)
    x_t, y_t = _curve("test", test_rates, test_psnr)
    return float(_mean_gap(x_a, y_a, x_t, y_t, method, "rate"))


def bd_rate(anchor_rates, anchor_psnr, test_rates, test_psnr, *, method="cubic"):
    """Bjontegaard delta rate: the mean change in rate of ``test`` against ``anchor`` at equal PSNR, in percent.

    Each curve is fitted as ``log(rate)`` against PSNR; the mean gap ``d``
    over the PSNR range both cover gives ``100 * (exp(d) - 1)``.

    Returns
    -------
    float
        Negative when ``test`` needs fewer bits for the same PSNR (-20 means
        20% fewer).

    Examples
    --------
    >>> rates = np.array([0.1, 0.2, 0.4, 0.8])
    >>> round(bd_rate(rates, [25, 28, 31, 34], 0.8 * rates, [25, 28, 31, 34]), 6)
    -20.0
    """
    _validation.check_choice("method", method, ("cubic", "pchip"))
    x_a, y_a = _curve("anchor", anchor_rates, anchor_psnr)
    x_t, y_t = _curve("test", test_rates, test_psnr)
    order_a, order_t = np.argsort(y_a), np.argsort(y_t)
    gap = _mean_gap(y_a[order_a], x_a[order_a], y_t[order_t], x_t[order_t], method, "PSNR")
    return float(100.0 * np.expm1(gap))


def bd_interval(anchor, test, *, metric="psnr", headers=True, method="cubic", **options):
    """BD-PSNR or BD-rate of ``test`` against ``anchor`` with a paired bootstrap interval over the test images.

    Each resample draws images with replacement, averages both codecs'
    curves over the drawn images (the same draw for both), and computes the
    delta; see :func:`cnn_tutor.metrics.paired_bootstrap`.

    Parameters
    ----------
    anchor, test : RDCurve
        Curves of two codecs on the same images.
    metric : {"psnr", "rate"}
        BD-PSNR (dB) or BD-rate (percent).
    headers : bool
        Count whole files (True) or payloads only.
    method : {"cubic", "pchip"}
        As in :func:`bd_psnr`.
    **options
        ``num_resamples``, ``confidence``, ``rng``.

    Returns
    -------
    cnn_tutor.metrics.intervals.Interval

    Examples
    --------
    >>> pixels = np.array([100, 100])
    >>> psnr = np.array([[25.0, 28, 31, 34], [27, 30, 33, 36]])
    >>> bytes_ = np.array([[10, 20, 40, 80], [12, 24, 48, 96]])
    >>> anchor = RDCurve("a", (1, 2, 3, 4), bytes_, bytes_, psnr, pixels)
    >>> test = RDCurve("b", (1, 2, 3, 4), bytes_, bytes_, psnr + 0.5, pixels)
    >>> print(bd_interval(anchor, test, num_resamples=50))
    0.50 [0.50, 0.50]
    """
    for label, curve in (("anchor", anchor), ("test", test)):
        if not isinstance(curve, RDCurve):
            raise TypeError(f"`{label}` must be an RDCurve; received {type(curve).__name__}.")
    if len(anchor.pixels) != len(test.pixels) or np.any(anchor.pixels != test.pixels):
        raise ValueError("`anchor` and `test` must be curves on the same images (same number and sizes).")
    _validation.check_choice("metric", metric, ("psnr", "rate"))
    headers = _validation.check_bool("headers", headers)
    delta = bd_psnr if metric == "psnr" else bd_rate
    rows = np.arange(len(anchor.pixels), dtype=np.float64)

    def statistic(picked):
        picked = picked.astype(np.int64)
        a_rate, a_psnr = anchor.mean_curve(headers=headers, images=picked)
        t_rate, t_psnr = test.mean_curve(headers=headers, images=picked)
        return delta(a_rate, a_psnr, t_rate, t_psnr, method=method)

    return paired_bootstrap(statistic, rows, **options)
