"""Compression figures: bits of integer symbols, JPEG sizes with and without headers, rate-distortion.

- :func:`symbol_probabilities` and :func:`code_length_bits` count the ideal
  code length of a learned codec's integer symbols under a probability table
  (an arithmetic coder comes within a few bits of it);
  :func:`compressed_bytes` measures what a standard compressor (``zlib``,
  ``lzma``) really produces;
- :func:`jpeg_roundtrip` encodes each image with Pillow's JPEG encoder and
  decodes it again, counting the whole file and the entropy-coded scan data
  alone (the file less its fixed headers: markers, quantisation and Huffman
  tables).  On a 28x28 digit the headers are most of the file.
- :func:`psnr_at_rate` reads a rate-distortion curve at a given rate, so two
  codecs can be compared at equal bits per pixel.

Used by the Reconstruction chapter.
"""

import io
import lzma
import typing
import zlib

import numpy as np

from cnn_tutor import _validation

__all__ = [
    "COMPRESSORS",
    "JpegResult",
    "code_length_bits",
    "compressed_bytes",
    "jpeg_roundtrip",
    "jpeg_scan_bytes",
    "psnr_at_rate",
    "symbol_probabilities",
]

#: Standard compressors of :func:`compressed_bytes`.
COMPRESSORS = ("zlib", "lzma")


def _check_symbols(name, symbols):
    array = _validation.as_array(name, symbols)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"`{name}` must be integer symbols (for example from `cnn_tutor.models.compression.encode`); received dtype {array.dtype}.")
    if array.size == 0:
        raise ValueError(f"`{name}` must hold at least one symbol; received an empty array.")
    return array


def symbol_probabilities(symbols, *, levels, smoothing=1.0):
    """The probability of each of the ``levels`` symbol values, counted in ``symbols``.

    ``smoothing`` is added to every count (Laplace), so a value never seen
    still gets a finite code length.  Values run from ``-(levels // 2)`` to
    ``levels // 2``.

    Examples
    --------
    >>> symbol_probabilities(np.array([0, 0, 1, -1]), levels=3, smoothing=0).round(2)
    array([0.25, 0.5 , 0.25])
    """
    symbols = _check_symbols("symbols", symbols)
    levels = _validation.check_int("levels", levels, minimum=2)
    smoothing = _validation.check_float("smoothing", smoothing, minimum=0.0)
    half = levels // 2
    if symbols.min() < -half or symbols.max() > levels - 1 - half:
        raise ValueError(
            f"`symbols` must lie in [{-half}, {levels - 1 - half}] for {levels} levels; "
            f"received values in [{int(symbols.min())}, {int(symbols.max())}]."
        )
    counts = np.bincount((symbols.ravel() + half).astype(np.int64), minlength=levels) + smoothing
    return counts / counts.sum()


def code_length_bits(symbols, probabilities):
    """Ideal code length of ``symbols``, in bits: ``-sum log2 p(symbol)``.

    With ``probabilities`` counted on other images (the training set), this
    is what an arithmetic coder sharing that table would write, to within a
    few bits; counted on ``symbols`` themselves it is their empirical entropy
    times their number, a lower bound.

    Parameters
    ----------
    symbols : array_like of int
        The integer symbols to code.
    probabilities : array_like
        One probability per value, from :func:`symbol_probabilities`.

    Returns
    -------
    float
        Total bits.

    Examples
    --------
    >>> code_length_bits(np.array([0, 0, 1, -1]), [0.25, 0.5, 0.25])
    6.0
    """
    symbols = _check_symbols("symbols", symbols)
    probabilities = _validation.as_float_array("probabilities", probabilities)
    if probabilities.ndim != 1 or probabilities.size < 2 or np.any(probabilities < 0):
        raise ValueError("`probabilities` must be a 1-D array of non-negative values, one per symbol value.")
    if not np.isclose(probabilities.sum(), 1.0):
        raise ValueError(f"`probabilities` must sum to 1; received a sum of {probabilities.sum():.4g}.")
    half = probabilities.size // 2
    index = symbols.ravel().astype(np.int64) + half
    if index.min() < 0 or index.max() >= probabilities.size:
        raise ValueError(f"`symbols` lie outside the {probabilities.size} values that `probabilities` covers.")
    p = probabilities[index]
    if np.any(p == 0):
        raise ValueError("A symbol has probability 0: it cannot be coded. Count with `smoothing` > 0.")
    return float(-np.log2(p).sum())


def compressed_bytes(symbols, method="lzma"):
    """Bytes that a standard compressor writes for ``symbols`` (stored as int8, in C order).

    ``zlib`` writes a raw DEFLATE stream (no zlib header or checksum),
    ``lzma`` a raw LZMA2 stream (no container), so only the coded data is
    counted.

    Examples
    --------
    >>> compressed_bytes(np.zeros(10_000, dtype=np.int8), "zlib") < 100
    True
    >>> compressed_bytes(np.zeros(4, dtype=np.int8), "gzip")
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of 'zlib', 'lzma'; received 'gzip'.
    """
    symbols = _check_symbols("symbols", symbols)
    _validation.check_choice("method", method, COMPRESSORS)
    if symbols.min() < -128 or symbols.max() > 127:
        raise ValueError("`symbols` must fit in int8 ([-128, 127]) to be stored one byte each.")
    data = np.ascontiguousarray(symbols, dtype=np.int8).tobytes()
    if method == "zlib":
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return len(compressor.compress(data) + compressor.flush())
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
    return len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters))




class JpegResult(typing.NamedTuple):
    """What :func:`jpeg_roundtrip` returns."""

    #: Decoded images, float32 in [0, 1], same shape as the input.
    decoded: np.ndarray
    #: Size of each whole JPEG file, in bytes (int64 ``(batch,)``).
    file_bytes: np.ndarray
    #: Size of each file's entropy-coded scan data (headers excluded), in bytes.
    scan_bytes: np.ndarray


def jpeg_scan_bytes(data):
    """Bytes of entropy-coded data in a baseline JPEG file: from the end of the SOS header to EOI.

    Raises
    ------
    ValueError
        If ``data`` is not a JPEG file with one scan.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"`data` must be the bytes of a JPEG file; received {type(data).__name__}.")
    data = bytes(data)
    if data[:2] != b"\xff\xd8":
        raise ValueError("`data` must be a JPEG file (it starts with the SOI marker FF D8).")
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError(f"`data` is not a well-formed JPEG file: no marker at byte {position}.")
        marker = data[position + 1]
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:  # start of scan: the coded data follow its header
            start = position + 2 + length
            end = len(data) - 2 if data[-2:] == b"\xff\xd9" else len(data)
            return end - start
        position += 2 + length
    raise ValueError("`data` is not a well-formed JPEG file: no start-of-scan (SOS) marker.")


def jpeg_roundtrip(images, quality, *, optimize=True):
    """Encode each image as a JPEG file with Pillow, decode it, and count its bytes.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, 1)`` (grey, one component) or ``(..., 3)``
        in [0, 1]; stored as 8-bit first.
    quality : int
        Pillow's JPEG quality, 1-95.
    optimize : bool
        Optimised Huffman tables (smaller files, same pixels).

    Returns
    -------
    JpegResult
        ``(decoded, file_bytes, scan_bytes)``.

    Examples
    --------
    >>> result = jpeg_roundtrip(np.zeros((2, 16, 16, 1)), quality=50)
    >>> result.decoded.shape, bool(np.all(result.scan_bytes < result.file_bytes))
    ((2, 16, 16, 1), True)
    >>> jpeg_roundtrip(np.zeros((1, 8, 8, 1)), quality=0)
    Traceback (most recent call last):
    ...
    ValueError: `quality` must be >= 1; received 0.
    """
    import PIL.Image

    images = _validation.check_images("images", images)
    if images.shape[-1] not in (1, 3):
        raise ValueError(f"`images` must have 1 or 3 channels for JPEG; received shape {images.shape}.")
    quality = _validation.check_int("quality", quality, minimum=1)
    if quality > 95:
        raise ValueError(f"`quality` must be <= 95 (Pillow's advice); received {quality}.")
    optimize = _validation.check_bool("optimize", optimize)
    decoded = np.empty_like(images)
    file_bytes = np.empty(len(images), dtype=np.int64)
    scan_bytes = np.empty(len(images), dtype=np.int64)
    for index, image in enumerate(images):
        pixels = np.round(image * 255).astype(np.uint8)
        picture = PIL.Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=quality, optimize=optimize)
        data = buffer.getvalue()
        file_bytes[index] = len(data)
        scan_bytes[index] = jpeg_scan_bytes(data)
        restored = np.asarray(PIL.Image.open(io.BytesIO(data)), dtype=np.float32) / 255.0
        decoded[index] = restored.reshape(image.shape)
    return JpegResult(decoded, file_bytes, scan_bytes)


def psnr_at_rate(rates, psnrs, rate):
    """PSNR of a rate-distortion curve at ``rate``, by linear interpolation between its points.

    Parameters
    ----------
    rates, psnrs : array_like
        The curve's points (bits per pixel and dB), in any order.
    rate : float
        Where to read it.

    Returns
    -------
    float
        The interpolated PSNR, or ``nan`` outside the measured range (no
        extrapolation: a comparison there would be a guess).

    Examples
    --------
    >>> psnr_at_rate([0.5, 1.0], [20.0, 24.0], 0.75)
    22.0
    >>> psnr_at_rate([0.5, 1.0], [20.0, 24.0], 0.25)
    nan
    """
    rates = _validation.as_float_array("rates", rates).ravel()
    psnrs = _validation.as_float_array("psnrs", psnrs).ravel()
    _validation.check_same_shape("rates", rates, "psnrs", psnrs)
    if rates.size < 2:
        raise ValueError(f"`rates` must hold at least two points of the curve; received {rates.size}.")
    if not np.all(np.isfinite(rates)):
        raise ValueError(f"`rates` must be finite; received {rates.tolist()}.")
    if np.any(np.isnan(psnrs)):
        raise ValueError(f"`psnrs` must not contain NaN; received {psnrs.tolist()}.")
    rate = _validation.check_float("rate", rate, minimum=0.0)
    order = np.argsort(rates)
    rates, psnrs = rates[order], psnrs[order]
    if rate < rates[0] or rate > rates[-1]:
        return float("nan")
    return float(np.interp(rate, rates, psnrs))
