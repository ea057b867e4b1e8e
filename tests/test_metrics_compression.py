"""Tests for cnn_tutor.metrics.compression: JPEG sizes and rate-distortion reading."""

import io

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
