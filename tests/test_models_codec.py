"""Tests of cnn_tutor.models.codec and cnn_tutor.models.entropy: exact start, real bytes, lossless round trips."""

import keras
import numpy as np
import pytest

from cnn_tutor import coding
from cnn_tutor.models import codec, entropy

pytestmark = pytest.mark.usefixtures("quiet_runtime")


def _small(**options):
    return codec.build_codec(block_size=4, kernel_size=8, num_filters=8, hyper_filters=8, hyper_channels=4,
                             seed=0, **options)


def _photo_like(rng, count=4, size=32):
    noise = rng.normal(size=(count, size, size, 1))
    smooth = np.cumsum(np.cumsum(noise, axis=1), axis=2)
    smooth -= smooth.min(axis=(1, 2, 3), keepdims=True)
    return (smooth / smooth.max(axis=(1, 2, 3), keepdims=True)).astype("float32")


def test_dct_basis_is_orthonormal_and_matches_scipy():
    import scipy.fft

    basis = codec.dct_basis(8)
    flat = basis.reshape(64, 64)
    np.testing.assert_allclose(flat @ flat.T, np.eye(64), atol=1e-12)
    block = np.random.default_rng(0).random((8, 8))
    reference = scipy.fft.dctn(block, norm="ortho")
    coefficients = flat @ block.ravel()
    assert coefficients[0] == pytest.approx(reference[0, 0])
    assert sorted(np.round(np.abs(coefficients), 10)) == sorted(np.round(np.abs(reference.ravel()), 10))


def test_the_untrained_codec_is_the_dct_and_its_inverse():
    model = _small()
    x = np.random.default_rng(1).random((2, 16, 16, 1)).astype("float32")
    y = keras.ops.convert_to_numpy(model.get_layer("analysis")(x))
    # the first channel is the block mean: 4 x (mean - 1/2) for 4x4 orthonormal blocks, times the gain
    gain = codec.initial_gain(30.0)
    expected = 4 * (x[:, :4, :4, 0].mean(axis=(1, 2)) - 0.5) * gain
    np.testing.assert_allclose(y[:, 0, 0, 0], expected, rtol=1e-5)
    back = keras.ops.convert_to_numpy(model.get_layer("synthesis")(y))
    np.testing.assert_allclose(back, x, atol=1e-5)


def test_initial_gain_minimises_the_high_rate_loss():
    weight = 50.0
    gains = np.linspace(1, 40, 4000)
    loss = 255**2 / (12 * gains**2) + weight * np.log2(gains)
    assert codec.initial_gain(weight) == pytest.approx(gains[loss.argmin()], rel=2e-3)


def test_rescale_codec_changes_only_the_step():
    model = _small()
    x = _photo_like(np.random.default_rng(2), count=1)
    y = keras.ops.convert_to_numpy(model.get_layer("analysis")(x))
    z = keras.ops.convert_to_numpy(model.get_layer("hyper_analysis")(y))
    codec.rescale_codec(model, 3.0)
    y3 = keras.ops.convert_to_numpy(model.get_layer("analysis")(x))
    np.testing.assert_allclose(y3, 3 * y, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("hyper_analysis")(y3)), z, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("synthesis")(y3)), x, atol=1e-5)


@pytest.mark.parametrize("distribution", ["gaussian", "laplace"])
def test_conditional_likelihoods_sum_to_one_over_the_integers(distribution):
    layer = entropy.GaussianConditional(distribution=distribution)
    values = np.arange(-200, 201, dtype="float32").reshape(1, 1, -1, 1)
    for mean, log_scale in ((0.3, 0.0), (-2.0, 2.0)):
        params = np.concatenate([np.full_like(values, mean), np.full_like(values, log_scale)], axis=-1)
        p = keras.ops.convert_to_numpy(layer.likelihood(values, *layer.split(params)))
        assert p.sum() == pytest.approx(1.0, abs=1e-4)


def test_laplace_likelihood_matches_scipy():
    import scipy.stats

    layer = entropy.GaussianConditional(distribution="laplace")
    y = np.array([[[[0.0, 3.0, -1.0]]]], "float32")
    params = np.array([[[[0.0, 1.0, 0.5, 0.0, np.log(2.0), np.log(0.5)]]]], "float32")
    p = keras.ops.convert_to_numpy(layer.likelihood(y, *layer.split(params)))[0, 0, 0]
    for value, mean, scale, got in zip((0.0, 3.0, -1.0), (0.0, 1.0, 0.5), (1.0, 2.0, 0.5), p):
        dist = scipy.stats.laplace(loc=mean, scale=scale)
        assert got == pytest.approx(dist.cdf(value + 0.5) - dist.cdf(value - 0.5), rel=1e-4)


def test_training_noise_is_uniform_and_test_time_rounds_around_the_mean():
    layer = entropy.GaussianConditional(seed=0)
    y = np.full((1, 32, 32, 1), 0.3, "float32")
    params = np.concatenate([np.full_like(y, 0.8), np.zeros_like(y)], axis=-1)
    noisy, _ = layer([y, params], training=True)
    noise = keras.ops.convert_to_numpy(noisy) - y
    assert noise.min() >= -0.5 and noise.max() <= 0.5 and abs(noise.mean()) < 0.05
    rounded, _ = layer([y, params], training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(rounded), 0.8 + np.round(0.3 - 0.8))


def test_tables_hold_the_model_and_an_escape():
    tables = entropy.gaussian_tables([1.0], distribution="laplace")
    row = tables.freqs[0]
    widths = (row > 0).sum()
    assert row.sum() == 2**16 and row[widths - 1] >= 1  # the escape column
    centre = -tables.offsets[0]
    assert row[centre] / 2**16 == pytest.approx(1 - np.exp(-0.5), abs=2e-4)  # Laplace(1) mass of [-1/2, 1/2]


def test_compress_round_trips_the_latents_and_costs_what_the_tables_promise():
    model = _small()
    patches = _photo_like(np.random.default_rng(3), count=16)
    codec.initialize_entropy_models(model, patches, steps=20)
    images = _photo_like(np.random.default_rng(4), count=2, size=40)[:, :37, :29]
    tables = codec.codec_tables(model)
    files = codec.compress(model, images, tables=tables, model_index=7)
    bits = codec.estimate_bits(model, images, tables=tables)
    for image, data, (model_bits, table_bits) in zip(images, files, bits):
        assert data[:5] == (37).to_bytes(2, "big") + (29).to_bytes(2, "big") + bytes([7])
        payload = len(data) - codec.HEADER_BYTES
        assert table_bits / 8 <= payload <= table_bits / 8 + 10  # two streams, 4 flush bytes each
        assert abs(payload - model_bits / 8) <= 0.1 * model_bits / 8 + 10
        decoded = codec.decompress(model, data, tables=tables)
        assert decoded.shape == image.shape
        # what the decoder shows is what the model computes with rounded latents
        padded = np.pad(image, ((0, 11), (0, 3), (0, 0)), mode="edge")  # to 48 x 32, multiples of 16
        expected = np.clip(keras.ops.convert_to_numpy(model(padded[None], training=False)["image"])[0], 0, 1)
        np.testing.assert_allclose(decoded, np.round(expected[:37, :29] * 255) / 255, atol=1 / 255 + 1e-6)


def test_training_lowers_the_loss():
    model = _small(rate_weight=20.0)
    patches = _photo_like(np.random.default_rng(5), count=32)
    codec.initialize_entropy_models(model, patches, steps=20)
    first = codec.train_codec(model, patches, rate_weight=20.0, steps=2, learning_rate=1e-4)
    later = codec.train_codec(model, patches, rate_weight=20.0, steps=60, learning_rate=1e-3)
    assert later["loss"] < first["loss"]


def test_codec_survives_saving_and_loading(tmp_path):
    model = _small()
    path = tmp_path / "codec.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = _photo_like(np.random.default_rng(6), count=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)["image"]),
                               keras.ops.convert_to_numpy(model(x)["image"]), atol=1e-6)


def test_bad_input():
    model = _small()
    with pytest.raises(ValueError, match="`kernel_size` must be `block_size` plus an even margin"):
        codec.build_codec(block_size=8, kernel_size=10 + 1)
    with pytest.raises(ValueError, match="`model_index` must fit in one byte"):
        codec.compress(model, np.zeros((1, 16, 16, 1)), model_index=256)
    with pytest.raises(ValueError, match="channel"):
        codec.compress(model, np.zeros((1, 16, 16, 3)))
    with pytest.raises(ValueError, match="header"):
        codec.decompress(model, b"\x00\x10")
    with pytest.raises(TypeError, match="`data` must be bytes"):
        codec.decompress(model, "file")
    with pytest.raises(ValueError, match="multiples of 16"):
        codec.train_codec(model, np.zeros((2, 20, 20, 1)), rate_weight=1.0, steps=1)
    with pytest.raises(ValueError, match="`distribution` must be one of"):
        entropy.GaussianConditional(distribution="cauchy")
    with pytest.raises(ValueError, match="`factor` must be > 0"):
        codec.rescale_codec(model, 0.0)
    assert coding.PRECISION == 16
