"""Compression figures: JPEG sizes with and without headers, and comparing rate-distortion curves.

- :func:`jpeg_roundtrip` encodes each image with Pillow's JPEG encoder and
  decodes it again, counting the whole file and the entropy-coded scan data
  alone (the file less its fixed headers: markers, quantisation and Huffman
  tables).  On a 28x28 digit the headers are most of the file.
- :func:`psnr_at_rate` reads a rate-distortion curve at a given rate, so two
  codecs can be compared at equal bits per pixel.

Used by the Reconstruction chapter.
"""

import io
import typing

import numpy as np

from cnn_tutor import _validation

__all__ = ["JpegResult", "jpeg_roundtrip", "jpeg_scan_bytes", "psnr_at_rate"]


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
