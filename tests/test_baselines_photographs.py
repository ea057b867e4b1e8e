"""Tests of cnn_tutor.baselines and cnn_tutor.models.patch_training."""

import numpy as np
import pytest
import scipy.ndimage

from cnn_tutor import baselines
from cnn_tutor.models import patch_training


@pytest.fixture
def clean():
    rng = np.random.default_rng(0)
    image = scipy.ndimage.gaussian_filter(rng.random((48, 48)), 2.0)
    image = (image - image.min()) / (image.max() - image.min())
    return image[None, ..., None].astype("float32")


@pytest.mark.parametrize("method", ["nl_means", "wavelet", "tv"])
def test_each_denoiser_removes_noise(clean, method):
    noisy = clean + 0.1 * np.random.default_rng(1).standard_normal(clean.shape)
    out = baselines.denoise(noisy, method, 0.1, max_shifts=1) if method == "wavelet" else \
        baselines.denoise(noisy, method, 0.1)
    assert out.shape == clean.shape and out.min() >= 0 and out.max() <= 1
    assert np.mean((out - clean) ** 2) < 0.5 * np.mean((np.clip(noisy, 0, 1) - clean) ** 2)


def test_tv_weight_is_in_units_of_sigma(clean):
    import skimage.restoration

    noisy = clean + 0.05 * np.random.default_rng(2).standard_normal(clean.shape)
    ours = baselines.denoise(noisy, "tv", 0.05, weight=2.0)
    reference = np.clip(skimage.restoration.denoise_tv_chambolle(noisy[0, ..., 0].astype(float), weight=0.1), 0, 1)
    np.testing.assert_allclose(ours[0, ..., 0], reference, atol=1e-6)


def test_unsharp_mask_matches_its_formula_and_zero_amount_is_interpolation():
    small = np.random.default_rng(3).random((1, 6, 6, 1)).astype("float32") * 0.5 + 0.25
    plain = baselines.upsample_sharpen(small, 2, amount=0.0)
    sharp = baselines.upsample_sharpen(small, 2, radius=1.0, amount=0.5)
    expected = plain + 0.5 * (plain - scipy.ndimage.gaussian_filter(plain.astype(float), sigma=(0, 1, 1, 0)))
    np.testing.assert_allclose(sharp, np.clip(expected, 0, 1), atol=1e-5)
    assert plain.shape == (1, 12, 12, 1)


def test_tune_picks_the_best_and_format_marks_it():
    clean = np.full((2, 8, 8, 1), 0.6)
    result = baselines.tune(lambda x, shift: np.clip(x + shift, 0, 1), clean - 0.1, clean,
                                  {"shift": (0.0, 0.05, 0.1, 0.2)})
    assert result.best == {"shift": 0.1} and np.isinf(result.best_psnr)
    text = baselines.format_tuning(result, label="toy")
    assert text.splitlines()[2].endswith("*") and text.count("*") == 1


def test_bad_input(clean):
    with pytest.raises(ValueError, match="`sigma` must be > 0"):
        baselines.denoise(clean, "tv", 0.0)
    with pytest.raises(TypeError, match="unknown parameter"):
        baselines.denoise(clean, "tv", 0.1, h=1.0)
    with pytest.raises(ValueError, match="`grid` must be a non-empty dict"):
        baselines.tune(lambda x: x, clean, clean, {})
    with pytest.raises(ValueError, match="`sigma_range` must be a pair"):
        patch_training.noise_pairs(0.1)


def test_fresh_noise_every_batch_and_a_seeded_run():
    degrade = patch_training.noise_pairs((0.05, 0.2))
    batch = np.zeros((256, 4, 4, 1), "float32")
    rng = np.random.default_rng(0)
    first, second = degrade(batch, rng)[0], degrade(batch, rng)[0]
    assert not np.allclose(first, second)
    levels = first.reshape(256, -1).std(axis=1)
    assert 0.03 < levels.min() and levels.max() < 0.3
    small, large = patch_training.downsample_pairs(2)(np.arange(16, dtype="float32").reshape(1, 4, 4, 1) / 16, rng)
    assert small[0, 0, 0, 0] == pytest.approx((0 + 1 + 4 + 5) / 64)
