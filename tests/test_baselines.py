"""Tests for cnn_tutor.baselines: the classical denoisers, inpainting and interpolation."""

import numpy as np
import pytest

from cnn_tutor import baselines, data, metrics


@pytest.fixture
def digits():
    """Eight real 28x28 digits from the bundled subset."""
    return data.load_mnist(verbose=False).x_test[:8]


@pytest.fixture
def ramp():
    """Two 16x16 images of a smooth horizontal ramp."""
    row = np.linspace(0.1, 0.9, 16, dtype=np.float32)
    return np.broadcast_to(row[None, None, :, None], (2, 16, 16, 1)).copy()


@pytest.mark.parametrize("method", baselines.DENOISERS)
def test_classical_denoisers_improve_noisy_digits(method, digits):
    noisy = data.add_gaussian_noise(digits, 0.3, rng=0)
    options = {"sigma": 0.3} if method == "nl_means" else {}
    out = baselines.classical_denoise(noisy, method, **options)
    assert out.shape == digits.shape and out.dtype == np.float32
    assert metrics.psnr(digits, out).mean() > metrics.psnr(digits, noisy).mean()


def test_median_removes_isolated_salt():
    clean = np.full((1, 9, 9, 1), 0.5, np.float32)
    noisy = clean.copy()
    noisy[0, 4, 4, 0] = 1.0
    np.testing.assert_array_equal(baselines.classical_denoise(noisy, "median"), clean)


def test_classical_denoise_errors(images):
    with pytest.raises(ValueError, match=r"`method` must be one of 'gaussian'"):
        baselines.classical_denoise(images, "bilateral")
    with pytest.raises(ValueError, match=r"`images` must be 4-D"):
        baselines.classical_denoise(images[0], "median")


def test_classical_inpaint_biharmonic_continues_a_ramp(ramp):
    mask = np.zeros((2, 16, 16, 1), np.float32)
    mask[:, 5:10, 6:11] = 1
    damaged = np.where(mask == 1, 0.0, ramp).astype(np.float32)
    biharmonic = baselines.classical_inpaint(damaged, mask, "biharmonic")
    mean = baselines.classical_inpaint(damaged, mask, "mean")
    np.testing.assert_array_equal(biharmonic[mask == 0], ramp[mask == 0])
    np.testing.assert_allclose(biharmonic, ramp, atol=1e-3)
    assert metrics.hole_psnr(ramp, biharmonic, mask) > metrics.hole_psnr(ramp, mean, mask) + 20
    # the mean fill writes the mean of the known pixels into the hole
    known = damaged[0][mask[0] == 0].mean()
    np.testing.assert_allclose(mean[0][mask[0] == 1], known, rtol=1e-6)


def test_classical_inpaint_mask_errors(images):
    mask = np.zeros((3, 16, 16, 1))
    with pytest.raises(ValueError, match=r"`mask` must have shape \(3, 16, 16, 1\) .* received \(3, 16, 16\)"):
        baselines.classical_inpaint(images, mask[..., 0])
    with pytest.raises(ValueError, match=r"`mask` must be binary"):
        baselines.classical_inpaint(images, mask + 0.5)
    with pytest.raises(ValueError, match=r"`method` must be one of 'mean', 'biharmonic'"):
        baselines.classical_inpaint(images, mask, "telea")


def test_gaussian_blur_is_scipys_filter_per_image():
    import scipy.ndimage

    images = np.random.default_rng(0).random((2, 9, 9, 1)).astype(np.float32)
    out = baselines.classical_denoise(images, "gaussian", sigma=1.5)
    expected = np.clip([scipy.ndimage.gaussian_filter(image, sigma=(1.5, 1.5, 0)) for image in images], 0, 1)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_bilinear_upsampling_on_a_hand_computed_case():
    # Half-pixel centres: a 2x upsampling of [0, 1] gives [0, 0.25, 0.75, 1] (edges clamped).
    row = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1).repeat(2, axis=1)
    out = baselines.upsample(row, 2, "bilinear")
    np.testing.assert_allclose(out[0, 0, :, 0], [0.0, 0.25, 0.75, 1.0], atol=1e-6)


def test_upsample_nearest_repeats_and_aligns_with_downsample(images):
    small = data.downsample(images, 2)
    nearest = baselines.upsample(small, 2, "nearest")
    np.testing.assert_array_equal(nearest, np.repeat(np.repeat(small, 2, axis=1), 2, axis=2))
    for method in baselines.UPSAMPLERS:
        constant = baselines.upsample(np.full((1, 4, 4, 1), 0.3, np.float32), 3, method)
        np.testing.assert_allclose(constant, 0.3, atol=1e-6)
    with pytest.raises(ValueError, match=r"`method` must be one of 'nearest', 'bilinear', 'bicubic'"):
        baselines.upsample(images, 2, "lanczos")




def test_tone_curve_is_the_identity_at_gain_one_and_binarises_at_high_gain():
    values = np.linspace(0, 1, 11, dtype=np.float32).reshape(1, 1, 11, 1)
    np.testing.assert_allclose(baselines.tone_curve(values), values, atol=1e-7)
    hard = baselines.tone_curve(values, gain=100.0, threshold=0.45)
    np.testing.assert_array_equal(hard.ravel(), (values.ravel() > 0.45).astype(np.float32))
    # a hand-computed point: 0.5 + 2 (0.7 - 0.4) = 1.1, clipped to 1; 0.5 + 2 (0.3 - 0.4) = 0.3
    np.testing.assert_allclose(baselines.tone_curve(np.array([0.7, 0.3]).reshape(1, 1, 2, 1), 2.0, 0.4).ravel(),
                               [1.0, 0.3], atol=1e-6)


def test_tone_curve_refuses_a_negative_gain_and_bad_images():
    with pytest.raises(ValueError, match=r"`gain` must be >= 0.0; received -0.5"):
        baselines.tone_curve(np.zeros((1, 2, 2, 1)), gain=-0.5)
    with pytest.raises(ValueError, match=r"`images` must be 4-D"):
        baselines.tone_curve(np.zeros((2, 2)), gain=1.0)


def test_tuned_blur_and_tone_beats_the_textbook_blur_on_noisy_digits(digits):
    # the tone curve's prior (digits are nearly binary) is what a referee tries first
    noisy = data.add_gaussian_noise(digits, 0.5, rng=0)
    grid = {"sigma": (0.75, 1.0), "gain": (1.0, 3.0), "threshold": (0.4, 0.5)}
    result = baselines.tune(lambda x, **p: baselines.denoise_and_tone(x, "gaussian", **p), noisy, digits, grid)
    assert result.best["gain"] == 3.0
    textbook = metrics.psnr(digits, baselines.classical_denoise(noisy, "gaussian", sigma=1.0)).mean()
    assert result.best_psnr > textbook + 2.0
    with_identity_curve = baselines.denoise_and_tone(noisy, "gaussian", sigma=1.0)
    np.testing.assert_allclose(with_identity_curve, baselines.classical_denoise(noisy, "gaussian", sigma=1.0), atol=1e-6)
