"""Tests of cnn_tutor.metrics.rate and cnn_tutor.metrics.intervals: BD deltas, real files, bootstrap intervals."""

import io

import numpy as np
import PIL.Image
import pytest

from cnn_tutor.metrics import intervals, rate

RATES = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
PSNR = np.array([24.0, 27.5, 30.5, 33.0, 35.0])


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_bd_psnr_of_a_shifted_curve_is_the_shift_and_changes_sign_when_swapped(method):
    assert rate.bd_psnr(RATES, PSNR, RATES, PSNR + 0.7, method=method) == pytest.approx(0.7, abs=1e-9)
    assert rate.bd_psnr(RATES, PSNR + 0.7, RATES, PSNR, method=method) == pytest.approx(-0.7, abs=1e-9)


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_bd_rate_of_a_scaled_curve_is_the_scale(method):
    assert rate.bd_rate(RATES, PSNR, 0.75 * RATES, PSNR, method=method) == pytest.approx(-25.0, abs=1e-9)
    assert rate.bd_rate(RATES, PSNR, 2.0 * RATES, PSNR, method=method) == pytest.approx(100.0, abs=1e-9)


def test_bd_psnr_averages_over_the_overlap_only():
    # test = anchor + (log r - log 0.2)**2 on [log 0.2, log 0.8]; the anchor is linear in log r.
    x = np.log(RATES)
    anchor = 30 + 3 * x
    test_rates = RATES[1:4] ** 1.0
    test_x = np.log(test_rates)
    extra = np.array([0.0, 1.0, 4.0, 9.0]) * 0.01  # four points of a parabola in t = (x - x1) / (x2 - x1)
    t = np.array([0.0, 1.0, 2.0, 3.0]) / 3
    xs = test_x[0] + t * (test_x[-1] - test_x[0])
    values = 30 + 3 * xs + 0.09 * t**2
    got = rate.bd_psnr(RATES, anchor, np.exp(xs), values)
    assert got == pytest.approx(0.09 / 3, abs=1e-9)  # mean of 0.09 t^2 over t in [0, 1]
    assert np.all(extra >= 0)


def test_bd_needs_four_points_and_an_overlap():
    with pytest.raises(ValueError, match="at least 4 points"):
        rate.bd_psnr(RATES[:3], PSNR[:3], RATES, PSNR)
    with pytest.raises(ValueError, match=r"`anchor_psnr` and `test_psnr` must overlap .*received the ranges \[24, 35\] and \[44, 55\]"):
        rate.bd_rate(RATES, PSNR, RATES, PSNR + 20)
    with pytest.raises(ValueError, match="positive"):
        rate.bd_psnr(RATES - 1, PSNR, RATES, PSNR)


def _webp_bytes():
    buffer = io.BytesIO()
    PIL.Image.new("L", (16, 16), 100).save(buffer, format="WEBP")
    return buffer.getvalue()


def test_payload_parsers_on_hand_built_containers():
    chunk = b"VP8 " + (7).to_bytes(4, "little") + bytes(7) + b"\x00"  # odd size: one pad byte
    exif = b"EXIF" + (4).to_bytes(4, "little") + bytes(4)
    riff = b"RIFF" + (4 + len(chunk) + len(exif)).to_bytes(4, "little") + b"WEBP" + exif + chunk
    assert rate.payload_bytes(riff, "webp") == 7
    boxes = (
        (16).to_bytes(4, "big") + b"ftyp" + b"avif" + bytes(4)
        + (20).to_bytes(4, "big") + b"meta" + bytes(12)
        + (8 + 33).to_bytes(4, "big") + b"mdat" + bytes(33)
    )
    assert rate.payload_bytes(boxes, "avif") == 33
    with pytest.raises(ValueError, match="not an AVIF"):
        rate.payload_bytes(boxes[16:], "avif")
    assert 0 < rate.payload_bytes(_webp_bytes(), "webp") < len(_webp_bytes())


@pytest.mark.parametrize("codec", ["jpeg", "webp", "avif"])
def test_standard_roundtrip_decodes_close_at_high_quality_and_grows_with_quality(codec):
    rng = np.random.default_rng(0)
    smooth = np.cumsum(np.cumsum(rng.normal(size=(1, 48, 48, 1)), axis=1), axis=2)
    images = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    curve = rate.standard_curve(images, codec, (20, 60, 90))
    assert np.all(np.diff(curve.file_bytes, axis=1) > 0)
    assert np.all(curve.payload_bytes < curve.file_bytes)
    assert curve.psnr[0, -1] > 38.0
    assert np.all(np.diff(curve.psnr, axis=1) > 0)


def test_curve_from_files_counts_headers_apart():
    image = np.zeros((8, 4, 1))
    curve = rate.curve_from_files("toy", (1, 2, 3, 4), [image], [[bytes(n)] for n in (8, 12, 16, 24)],
                                  [[image + d] for d in (0.1, 0.05, 0.02, 0.01)], header_bytes=4)
    np.testing.assert_allclose(curve.bpp(), [[2.0, 3.0, 4.0, 6.0]])
    np.testing.assert_allclose(curve.bpp(headers=False), [[1.0, 2.0, 3.0, 5.0]])
    np.testing.assert_allclose(curve.psnr, [[20.0, 10 * np.log10(400), 10 * np.log10(2500), 40.0]], atol=1e-4)
    with pytest.raises(ValueError, match="at least `header_bytes`"):
        rate.curve_from_files("toy", (1,), [image], [[bytes(2)]], [[image]], header_bytes=4)


def test_bd_interval_brackets_the_estimate_and_is_paired():
    rng = np.random.default_rng(5)
    pixels = np.full(6, 1000)
    base_bytes = np.outer(rng.uniform(0.8, 1.2, 6), [20, 40, 80, 160]).round().astype(int)
    base_psnr = np.outer(rng.uniform(-2, 2, 6), [1, 1, 1, 1]) + [26.0, 29, 32, 35]
    anchor = rate.RDCurve("a", (1, 2, 3, 4), base_bytes, base_bytes, base_psnr, pixels)
    gains = rng.normal(0.5, 0.3, (6, 1))
    test = rate.RDCurve("b", (1, 2, 3, 4), base_bytes, base_bytes, base_psnr + gains, pixels)
    result = rate.bd_interval(anchor, test, num_resamples=300, rng=0)
    assert result.low <= result.estimate <= result.high
    # The per-image gain is constant along each curve, so the BD-PSNR is the mean gain.
    assert result.estimate == pytest.approx(float(gains.mean()), abs=1e-6)
    with pytest.raises(TypeError, match="RDCurve"):
        rate.bd_interval(anchor, "jpeg")


def test_paired_bootstrap_matches_a_numpy_reference():
    a = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    b = np.array([0.5, 2.0, 2.5, 4.0, 3.0])
    got = intervals.paired_bootstrap(lambda x, y: np.mean(x - y), a, b, num_resamples=500, rng=7)
    rng = np.random.default_rng(7)
    index = rng.integers(0, 5, size=(500, 5))
    values = (a[index] - b[index]).mean(axis=1)
    assert got.estimate == pytest.approx(0.6)
    assert (got.low, got.high) == pytest.approx(tuple(np.quantile(values, [0.025, 0.975])))


def test_interval_errors():
    with pytest.raises(ValueError, match="same length"):
        intervals.paired_bootstrap(np.mean, [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="confidence"):
        intervals.mean_difference([1.0, 2.0], [0.0, 1.0], confidence=1.5)
    with pytest.raises(ValueError, match="1-D"):
        intervals.mean_difference(np.ones((2, 2)), np.ones((2, 2)))
