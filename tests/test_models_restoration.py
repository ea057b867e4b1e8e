"""Tests for cnn_tutor.models.restoration: builders, the sub-pixel layer, training and restoring."""

import numpy as np
import pytest

from cnn_tutor import baselines, data
from cnn_tutor.models import layers, restoration, training


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
    np.testing.assert_allclose(np.asarray(model(images)), images, atol=1e-7)


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
    out = np.asarray(model([damaged, mask]))
    known = mask[..., 0] == 0
    np.testing.assert_allclose(out[..., 0][known], damaged[..., 0][known], atol=1e-6)
    assert not np.allclose(out[..., 0][~known], 0.0)  # the network writes into the hole
    with pytest.raises(ValueError, match=r"`dilation_rates` must be a non-empty sequence"):
        restoration.build_inpainting_net(dilation_rates=())


@pytest.mark.parametrize("factor", [2, 3])
def test_espcn_output_size_and_depth_to_space(factor):
    keras = pytest.importorskip("keras")
    model = restoration.build_espcn(upscale_factor=factor, filters=(4,), kernel_sizes=(3, 3), seed=0)
    x = np.random.default_rng(0).random((2, 5, 6, 1)).astype(np.float32)
    out = np.asarray(model(x))
    assert out.shape == (2, 5 * factor, 6 * factor, 1)
    maps = np.asarray(keras.Model(model.input, model.get_layer("subpixel_maps").output)(x))
    # The equation of the chapter: Y[r i + a, r j + b] = F[i, j, a r + b] for one channel, every pixel.
    expected = np.empty_like(out)
    for a in range(factor):
        for b in range(factor):
            expected[:, a::factor, b::factor, 0] = maps[..., a * factor + b]
    np.testing.assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_depth_to_space_is_tensorflows(channels, tensorflow_backend):
    import tensorflow as tf

    x = np.random.default_rng(1).random((2, 3, 4, channels * 4)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(layers.DepthToSpace(2)(x)), tf.nn.depth_to_space(x, 2).numpy())
    np.testing.assert_array_equal(np.asarray(layers.depth_to_space(x, 2)), tf.nn.depth_to_space(x, 2).numpy())
    with pytest.raises(ValueError, match="multiple of 4 channels"):
        layers.DepthToSpace(2).compute_output_shape((None, 3, 4, 6))


def test_residual_espcn_starts_from_bicubic():
    model = restoration.build_espcn(filters=(4,), kernel_sizes=(3, 3), residual=True, seed=0)
    last = model.get_layer("subpixel_maps")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    x = np.random.default_rng(1).random((1, 8, 8, 1)).astype(np.float32)
    expected = baselines.upsample(x, 2, "bicubic")
    np.testing.assert_allclose(np.clip(np.asarray(model(x)), 0, 1), expected, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(upscale_factor=1), r"`upscale_factor` must be >= 2"),
        (dict(filters=(8,), kernel_sizes=(3,)), r"`kernel_sizes` must have one entry more than `filters` \(2\)"),
        (dict(filters=8), r"`filters` must be a sequence of ints"),
    ],
)
def test_espcn_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        restoration.build_espcn(**kwargs)


def test_train_restoration_runs_and_checks_lengths(digits):
    model = restoration.build_conv_denoiser(depth=2, num_filters=4, seed=0)
    noisy = data.add_gaussian_noise(digits, 0.3, rng=0)
    run = training.train_restoration(model, noisy, digits, epochs=1, batch_size=4)
    assert run.model is model and len(run.epoch_seconds) == 1 and "loss" in run.history
    out = restoration.restore(model, noisy)
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(out, np.clip(np.asarray(model.predict(noisy, verbose=0)), 0, 1))
    with pytest.raises(ValueError, match=r"the same number of images; received 8 and 7"):
        training.train_restoration(model, noisy, digits[:7], epochs=1)
    with pytest.raises(ValueError, match=r"`epochs` must be >= 1"):
        training.train_restoration(model, noisy, digits, epochs=0)
