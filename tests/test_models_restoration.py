"""Tests for cnn_tutor.models.restoration: builders, baselines, training, hole PSNR."""

import numpy as np
import pytest

from cnn_tutor import data, metrics
from cnn_tutor.models import restoration


@pytest.fixture
def digits():
    """Eight real 28x28 digits from the bundled subset."""
    return data.load_mnist(verbose=False).x_test[:8]


@pytest.fixture
def ramp():
    """Two 16x16 images of a smooth horizontal ramp."""
    row = np.linspace(0.1, 0.9, 16, dtype=np.float32)
    return np.broadcast_to(row[None, None, :, None], (2, 16, 16, 1)).copy()


@pytest.mark.parametrize("depth", [1, 3])
@pytest.mark.parametrize("residual", [True, False])
def test_conv_denoiser_keeps_the_shape_of_any_image(depth, residual):
    model = restoration.build_conv_denoiser(depth=depth, num_filters=4, residual=residual, seed=0)
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert len(convs) == depth
    for shape in [(1, 28, 28, 1), (2, 13, 17, 1)]:
        assert tuple(model(np.zeros(shape, np.float32)).shape) == shape


def test_residual_denoiser_with_zero_weights_is_the_identity(images):
    model = restoration.build_conv_denoiser(depth=2, num_filters=4, seed=0)
    last = model.get_layer("conv2")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    np.testing.assert_allclose(model(images).numpy(), images, atol=1e-7)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(depth=0), ValueError, r"`depth` must be >= 1; received 0"),
        (dict(kernel_size=4), ValueError, r"`kernel_size` must be odd"),
        (dict(num_filters=2.5), TypeError, r"`num_filters` must be an integer"),
        (dict(learning_rate=-1.0), ValueError, r"`learning_rate` must be > 0"),
    ],
)
def test_conv_denoiser_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        restoration.build_conv_denoiser(**kwargs)


def test_unet_skips_and_shape():
    with_skip = restoration.build_unet(num_filters=4, levels=2, seed=0)
    without = restoration.build_unet(num_filters=4, levels=2, full_resolution_skip=False, seed=0)
    concats = lambda m: [l.name for l in m.layers if l.__class__.__name__ == "Concatenate"]  # noqa: E731
    assert concats(with_skip) == ["skip1", "skip0"]
    assert concats(without) == ["skip1"]
    assert tuple(with_skip(np.zeros((2, 28, 28, 1), np.float32)).shape) == (2, 28, 28, 1)
    with pytest.raises(ValueError, match=r"`levels` must be >= 1"):
        restoration.build_unet(levels=0)


def test_inpainting_net_keeps_known_pixels_and_fills_the_hole(digits):
    model = restoration.build_inpainting_net(num_filters=4, dilation_rates=(1, 2), seed=0)
    damaged, mask = data.mask_random_boxes(digits, box_size=6, rng=0)
    out = model([damaged, mask]).numpy()
    known = mask[..., 0] == 0
    np.testing.assert_allclose(out[..., 0][known], damaged[..., 0][known], atol=1e-6)
    assert not np.allclose(out[..., 0][~known], 0.0)  # the network writes into the hole
    with pytest.raises(ValueError, match=r"`dilation_rates` must be a non-empty sequence"):
        restoration.build_inpainting_net(dilation_rates=())


@pytest.mark.parametrize("factor", [2, 3])
def test_espcn_output_size_and_depth_to_space(factor):
    import tensorflow as tf

    model = restoration.build_espcn(upscale_factor=factor, num_filters=(4,), kernel_sizes=(3, 3), seed=0)
    x = np.random.default_rng(0).random((2, 5, 6, 1)).astype(np.float32)
    assert tuple(model(x).shape) == (2, 5 * factor, 6 * factor, 1)
    maps = tf.keras.Model(model.input, model.get_layer("subpixel_maps").output)(x).numpy()
    np.testing.assert_allclose(model(x).numpy(), tf.nn.depth_to_space(maps, factor).numpy(), atol=1e-6)
    # The equation of the chapter: Y[r i + a, r j + b] = F[i, j, a r + b] for one channel.
    a, b, i, j = factor - 1, 0, 3, 4
    assert np.isclose(model(x).numpy()[0, factor * i + a, factor * j + b, 0], maps[0, i, j, a * factor + b], atol=1e-6)


def test_residual_espcn_starts_from_bicubic():
    model = restoration.build_espcn(num_filters=(4,), kernel_sizes=(3, 3), residual=True, seed=0)
    last = model.get_layer("subpixel_maps")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    x = np.random.default_rng(1).random((1, 8, 8, 1)).astype(np.float32)
    expected = restoration.upsample(x, 2, "bicubic")
    np.testing.assert_allclose(np.clip(model(x).numpy(), 0, 1), expected, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(upscale_factor=1), r"`upscale_factor` must be >= 2"),
        (dict(num_filters=(8,), kernel_sizes=(3,)), r"`kernel_sizes` must have one entry more than `num_filters` \(2\)"),
        (dict(num_filters=8), r"`num_filters` must be a sequence of ints"),
    ],
)
def test_espcn_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        restoration.build_espcn(**kwargs)


def test_train_restoration_runs_and_checks_lengths(digits):
    model = restoration.build_conv_denoiser(depth=2, num_filters=4, seed=0)
    noisy = data.add_gaussian_noise(digits, 0.3, rng=0)
    run = restoration.train_restoration(model, noisy, digits, epochs=1, batch_size=4)
    assert run.model is model and len(run.epoch_seconds) == 1 and "loss" in run.history
    out = restoration.restore(model, noisy)
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match=r"the same number of images; received 8 and 7"):
        restoration.train_restoration(model, noisy, digits[:7], epochs=1)
    with pytest.raises(ValueError, match=r"`epochs` must be >= 1"):
        restoration.train_restoration(model, noisy, digits, epochs=0)


@pytest.mark.parametrize("method", restoration.DENOISERS)
def test_classical_denoisers_improve_noisy_digits(method, digits):
    noisy = data.add_gaussian_noise(digits, 0.3, rng=0)
    options = {"sigma": 0.3} if method == "nl_means" else {}
    out = restoration.classical_denoise(noisy, method, **options)
    assert out.shape == digits.shape and out.dtype == np.float32
    assert metrics.psnr(digits, out).mean() > metrics.psnr(digits, noisy).mean()


def test_median_removes_isolated_salt():
    clean = np.full((1, 9, 9, 1), 0.5, np.float32)
    noisy = clean.copy()
    noisy[0, 4, 4, 0] = 1.0
    np.testing.assert_array_equal(restoration.classical_denoise(noisy, "median"), clean)


def test_classical_denoise_errors(images):
    with pytest.raises(ValueError, match=r"`method` must be one of 'gaussian'"):
        restoration.classical_denoise(images, "bilateral")
    with pytest.raises(ValueError, match=r"`images` must be 4-D"):
        restoration.classical_denoise(images[0], "median")


def test_classical_inpaint_biharmonic_continues_a_ramp(ramp):
    mask = np.zeros((2, 16, 16, 1), np.float32)
    mask[:, 5:10, 6:11] = 1
    damaged = np.where(mask == 1, 0.0, ramp).astype(np.float32)
    biharmonic = restoration.classical_inpaint(damaged, mask, "biharmonic")
    mean = restoration.classical_inpaint(damaged, mask, "mean")
    np.testing.assert_array_equal(biharmonic[mask == 0], ramp[mask == 0])
    np.testing.assert_allclose(biharmonic, ramp, atol=1e-3)
    assert restoration.hole_psnr(ramp, biharmonic, mask) > restoration.hole_psnr(ramp, mean, mask) + 20


def test_classical_inpaint_mask_errors(images):
    mask = np.zeros((3, 16, 16, 1))
    with pytest.raises(ValueError, match=r"`mask` must have shape \(3, 16, 16, 1\) .* received \(3, 16, 16\)"):
        restoration.classical_inpaint(images, mask[..., 0])
    with pytest.raises(ValueError, match=r"`mask` must be binary"):
        restoration.classical_inpaint(images, mask + 0.5)
    with pytest.raises(ValueError, match=r"`method` must be one of 'mean', 'biharmonic'"):
        restoration.classical_inpaint(images, mask, "telea")


def test_upsample_nearest_repeats_and_aligns_with_downsample(images):
    small = data.downsample(images, 2)
    nearest = restoration.upsample(small, 2, "nearest")
    np.testing.assert_array_equal(nearest, np.repeat(np.repeat(small, 2, axis=1), 2, axis=2))
    for method in restoration.UPSAMPLERS:
        constant = restoration.upsample(np.full((1, 4, 4, 1), 0.3, np.float32), 3, method)
        np.testing.assert_allclose(constant, 0.3, atol=1e-6)
    with pytest.raises(ValueError, match=r"`method` must be one of 'nearest', 'bilinear', 'bicubic'"):
        restoration.upsample(images, 2, "lanczos")


def test_hole_psnr_pools_pixels_and_checks_inputs():
    ref = np.zeros((2, 4, 4, 1), np.float32)
    est = ref.copy()
    est[0, 0, 0] = 0.5  # one wrong pixel among the 4 hole pixels of the batch
    mask = np.zeros_like(ref)
    mask[:, 0, :2] = 1
    assert np.isclose(restoration.hole_psnr(ref, est, mask), 10 * np.log10(4 / 0.25))
    with pytest.raises(ValueError, match=r"`reference` and `estimate` must have the same shape"):
        restoration.hole_psnr(ref, est[:1], mask)
    with pytest.raises(ValueError, match=r"`mask` must be binary"):
        restoration.hole_psnr(ref, est, mask * 2)
