"""Tests of cnn_tutor.metrics against their formulas and scikit-image."""

import numpy as np
import pytest
import skimage.metrics

from cnn_tutor import metrics


def test_psnr_matches_the_formula(images, rng):
    noisy = np.clip(images + rng.normal(0, 0.05, images.shape), 0, 1).astype(np.float32)
    mse = ((images - noisy) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(metrics.psnr(images, noisy), 10 * np.log10(1 / mse), rtol=1e-5)
    np.testing.assert_allclose(metrics.psnr(images * 255, noisy * 255, data_range=255), 10 * np.log10(1 / mse), rtol=1e-4)


def test_ssim_agrees_with_scikit_image(rng):
    clean = rng.random((1, 32, 32, 1)).astype(np.float32)
    noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1).astype(np.float32)
    ours = metrics.ssim(clean, noisy, filter_size=7)[0]
    theirs = skimage.metrics.structural_similarity(
        clean[0, ..., 0], noisy[0, ..., 0], data_range=1.0, gaussian_weights=True, sigma=1.5,
        win_size=7, use_sample_covariance=False,
    )
    assert abs(ours - theirs) < 0.02
    assert metrics.ssim(clean, clean)[0] == pytest.approx(1.0)


def test_masked_psnr_scores_only_the_hole(images):
    estimate = images.copy()
    mask = np.zeros(images.shape[:3] + (1,), dtype=np.float32)
    mask[:, 4:8, 4:8] = 1
    estimate[:, 4:8, 4:8] += 0.1
    estimate[:, 10:, 10:] += 0.5  # errors outside the mask do not count
    np.testing.assert_allclose(metrics.masked_psnr(images, estimate, mask), 20.0, rtol=1e-5)


def test_bits_per_pixel():
    assert metrics.bits_per_pixel(784, 784) == 8.0
    assert metrics.bits_per_pixel(0, 10) == 0.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: metrics.psnr(x, x[:, :8]), ValueError, r"same shape; received \(3, 16, 16, 1\) and \(3, 8, 16, 1\)"),
        (lambda x: metrics.psnr(x[0], x[0]), ValueError, "`reference` must be 4-D"),
        (lambda x: metrics.psnr(x, x, data_range=0), ValueError, "`data_range` must be > 0"),
        (lambda x: metrics.ssim(x, x, filter_size=32), ValueError, "`filter_size` must not exceed"),
        (lambda x: metrics.masked_psnr(x, x, np.ones((3, 16, 16, 2))), ValueError, r"`mask` must have shape \(3, 16, 16, 1\)"),
        (lambda x: metrics.masked_psnr(x, x, np.full((3, 16, 16, 1), 0.5)), ValueError, "`mask` must be binary"),
        (lambda x: metrics.masked_psnr(x, x, np.zeros((3, 16, 16, 1))), ValueError, "at least one pixel"),
        (lambda x: metrics.bits_per_pixel(10, 0), ValueError, "`num_pixels` must be > 0"),
        (lambda x: metrics.bits_per_pixel(-1, 10), ValueError, "`num_bytes` must be >= 0"),
    ],
)
def test_metric_errors(images, call, error, message):
    with pytest.raises(error, match=message):
        call(images)


def test_hole_psnr_pools_pixels_and_checks_inputs():
    ref = np.zeros((2, 4, 4, 1), np.float32)
    est = ref.copy()
    est[0, 0, 0] = 0.5  # one wrong pixel among the 4 hole pixels of the batch
    mask = np.zeros_like(ref)
    mask[:, 0, :2] = 1
    assert np.isclose(metrics.hole_psnr(ref, est, mask), 10 * np.log10(4 / 0.25))
    with pytest.raises(ValueError, match=r"`reference` and `estimate` must have the same shape"):
        metrics.hole_psnr(ref, est[:1], mask)
    with pytest.raises(ValueError, match=r"`mask` must be binary"):
        metrics.hole_psnr(ref, est, mask * 2)


@pytest.mark.parametrize("filter_size", [3, 7, 11])
def test_numpy_psnr_and_ssim_agree_with_tensorflows(filter_size, rng, tensorflow_backend, monkeypatch):
    reference = rng.random((3, 20, 17, 2)).astype(np.float32)
    estimate = np.clip(reference + rng.normal(0, 0.1, reference.shape), 0, 1).astype(np.float32)
    with_tf = metrics.psnr(reference, estimate), metrics.ssim(reference, estimate, filter_size=filter_size)
    from cnn_tutor import _backend

    monkeypatch.setattr(_backend, "use_tensorflow", lambda: False)  # as under JAX or without TensorFlow
    without = metrics.psnr(reference, estimate), metrics.ssim(reference, estimate, filter_size=filter_size)
    np.testing.assert_allclose(without[0], with_tf[0], rtol=1e-5)
    np.testing.assert_allclose(without[1], with_tf[1], atol=1e-5)


def test_ssim_of_constant_images_by_hand():
    # Constant images x = a, y = b: no variance, so SSIM is the luminance term (2ab + c1) / (a^2 + b^2 + c1).
    a, b, c1 = 0.2, 0.6, 0.01**2
    x, y = np.full((1, 9, 9, 1), a, np.float32), np.full((1, 9, 9, 1), b, np.float32)
    np.testing.assert_allclose(metrics.ssim(x, y), [(2 * a * b + c1) / (a**2 + b**2 + c1)], rtol=1e-4)
