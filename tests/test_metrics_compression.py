"""Tests for cnn_tutor.metrics.compression: bits of symbols, JPEG sizes and rate-distortion reading."""

import io
import lzma
import zlib

import numpy as np
import pytest

from cnn_tutor import data, metrics


@pytest.fixture
def digits():
    return data.load_mnist(verbose=False).x_test[:10]


def test_jpeg_sizes_grow_with_quality_and_headers_are_fixed(digits):
    low, high = metrics.jpeg_roundtrip(digits, 5), metrics.jpeg_roundtrip(digits, 50)
    assert low.decoded.shape == digits.shape and low.decoded.dtype == np.float32
    assert np.all(low.scan_bytes < low.file_bytes)
    assert high.scan_bytes.sum() > low.scan_bytes.sum()
    assert metrics.psnr(digits, high.decoded).mean() > metrics.psnr(digits, low.decoded).mean()
    headers = low.file_bytes - low.scan_bytes
    assert np.ptp(headers) <= 8  # the header barely depends on the content
    assert headers.mean() > low.scan_bytes.mean()  # and dominates a 28x28 digit's file


def test_jpeg_colour_and_scan_parser_agree_with_pillow():
    import PIL.Image

    image = np.random.default_rng(0).random((1, 16, 16, 3)).astype(np.float32)
    result = metrics.jpeg_roundtrip(image, 90)
    assert result.decoded.shape == image.shape
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.round(image[0] * 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90, optimize=True)
    assert result.file_bytes[0] == len(buffer.getvalue())
    assert metrics.jpeg_scan_bytes(buffer.getvalue()) == result.scan_bytes[0]


def test_jpeg_errors(digits):
    with pytest.raises(ValueError, match=r"`quality` must be >= 1; received 0"):
        metrics.jpeg_roundtrip(digits, 0)
    with pytest.raises(ValueError, match=r"`quality` must be <= 95"):
        metrics.jpeg_roundtrip(digits, 96)
    with pytest.raises(ValueError, match=r"1 or 3 channels"):
        metrics.jpeg_roundtrip(np.zeros((1, 8, 8, 2)), 50)
    with pytest.raises(ValueError, match=r"must be a JPEG file"):
        metrics.jpeg_scan_bytes(b"\x89PNG....")
    with pytest.raises(ValueError, match=r"no start-of-scan"):
        metrics.jpeg_scan_bytes(b"\xff\xd8\xff\xe0\x00\x04ab")


def test_psnr_at_rate_interpolates_without_extrapolating():
    assert metrics.psnr_at_rate([1.0, 0.5, 2.0], [24.0, 20.0, 30.0], 1.5) == pytest.approx(27.0)
    assert np.isnan(metrics.psnr_at_rate([0.5, 1.0], [20.0, 24.0], 1.01))
    with pytest.raises(ValueError, match=r"`rates` and `psnrs` must have the same shape"):
        metrics.psnr_at_rate([0.5, 1.0], [20.0], 0.7)
    with pytest.raises(ValueError, match=r"at least two points"):
        metrics.psnr_at_rate([0.5], [20.0], 0.5)
    with pytest.raises(ValueError, match=r"`rate` must be >= 0.0"):
        metrics.psnr_at_rate([0.5, 1.0], [20.0, 24.0], -1)


def test_code_length_of_uniform_symbols_is_log2_levels():
    symbols = np.tile(np.arange(-2, 3), 20)
    table = metrics.symbol_probabilities(symbols, levels=5, smoothing=0)
    np.testing.assert_allclose(table, 0.2)
    assert np.isclose(metrics.code_length_bits(symbols, table), symbols.size * np.log2(5))
    # A table counted elsewhere costs more than the symbols' own entropy (Gibbs' inequality).
    skewed = metrics.symbol_probabilities(np.zeros(10, np.int64), levels=5, smoothing=1)
    assert metrics.code_length_bits(symbols, skewed) > metrics.code_length_bits(symbols, table)


def test_bit_counting_errors():
    with pytest.raises(ValueError, match=r"`symbols` must lie in \[-1, 1\] for 3 levels; received values in \[-2, 0\]"):
        metrics.symbol_probabilities(np.array([-2, 0]), levels=3)
    with pytest.raises(TypeError, match=r"`symbols` must be integer symbols"):
        metrics.code_length_bits(np.array([0.5]), [0.5, 0.5])
    with pytest.raises(ValueError, match=r"`probabilities` must sum to 1"):
        metrics.code_length_bits(np.array([0]), [0.5, 0.4, 0.3])
    with pytest.raises(ValueError, match=r"probability 0: it cannot be coded"):
        metrics.code_length_bits(np.array([1]), [0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match=r"outside the 3 values"):
        metrics.code_length_bits(np.array([5]), [0.2, 0.6, 0.2])


@pytest.mark.parametrize("method", metrics.compression.COMPRESSORS)
def test_compressed_bytes_is_a_real_raw_stream(method):
    symbols = np.random.default_rng(0).integers(-2, 3, size=(4, 7, 7, 2)).astype(np.int8)
    size = metrics.compressed_bytes(symbols, method)
    assert 0 < size < symbols.size
    assert metrics.compressed_bytes(np.zeros(5000, np.int8), method) < 100
    if method == "zlib":
        payload = zlib.compressobj(9, zlib.DEFLATED, -15)
        data_ = payload.compress(symbols.tobytes()) + payload.flush()
        assert zlib.decompress(data_, -15) == symbols.tobytes() and len(data_) == size
    else:
        filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
        data_ = lzma.compress(symbols.tobytes(), format=lzma.FORMAT_RAW, filters=filters)
        assert lzma.decompress(data_, format=lzma.FORMAT_RAW, filters=filters) == symbols.tobytes()
    with pytest.raises(ValueError, match=r"`method` must be one of 'zlib', 'lzma'"):
        metrics.compressed_bytes(symbols, "gzip")
    with pytest.raises(ValueError, match=r"must fit in int8"):
        metrics.compressed_bytes(np.array([300]), method)
