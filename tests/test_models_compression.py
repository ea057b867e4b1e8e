"""Tests for cnn_tutor.models.compression and the quantiser: integer symbols, gradients, noise."""

import numpy as np
import pytest

from cnn_tutor import data
from cnn_tutor.models import compression, layers, training


@pytest.fixture
def digits():
    return data.load_mnist(verbose=False).x_test[:8]


@pytest.mark.parametrize("quantizer", compression.QUANTIZERS)
def test_encoder_gives_integer_symbols_within_levels(quantizer, digits):
    codec = compression.build_compression_autoencoder(latent_channels=3, levels=5, num_filters=4,
                                                      quantizer=quantizer, seed=0)
    symbols = compression.encode(codec, digits)
    assert symbols.dtype == np.int8 and symbols.shape == (8, 7, 7, 3)
    assert symbols.min() >= -2 and symbols.max() <= 2
    decoded = np.asarray(codec.decoder(symbols.astype(np.float32)))
    np.testing.assert_allclose(decoded, np.asarray(codec.autoencoder(digits)), atol=1e-5)


def test_straight_through_rounds_forward_and_passes_gradients(backend):
    layer = layers.Quantize("straight_through")
    x = np.array([[0.2, 0.7, -1.4]], np.float32)
    np.testing.assert_array_equal(np.asarray(layer(x, training=True)), [[0.0, 1.0, -1.0]])
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        gradient = tape.gradient(y, x).numpy()
    elif backend == "jax":
        import jax

        gradient = np.asarray(jax.grad(lambda v: layer(v, training=True).sum())(x))
    else:
        pytest.skip(f"no gradient check written for {backend}")
    np.testing.assert_array_equal(gradient, np.ones((1, 3)))


def test_noise_quantizer_adds_bounded_noise_in_training_and_rounds_at_test():
    codec = compression.build_compression_autoencoder(num_filters=4, quantizer="noise", seed=0)
    layer = codec.autoencoder.get_layer("quantize")
    x = np.linspace(-2, 2, 1000, dtype=np.float32)[None]
    noisy = np.asarray(layer(x, training=True))
    assert np.all(np.abs(noisy - x) <= 0.5) and np.std(noisy - x) > 0.2
    assert abs(np.mean(noisy - x)) < 0.05  # uniform in [-0.5, 0.5): zero mean, std 1/sqrt(12)
    np.testing.assert_allclose(np.std(noisy - x), 1 / np.sqrt(12), rtol=0.1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), np.round(x))


def test_one_training_step(digits):
    codec = compression.build_compression_autoencoder(num_filters=4, seed=0)
    run = training.fit(codec.autoencoder, digits, digits, epochs=1, batch_size=8)
    assert np.isfinite(run.history["loss"][0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(levels=4), r"`levels` must be odd"),
        (dict(levels=1), r"`levels` must be >= 2"),
        (dict(quantizer="ste"), r"`quantizer` must be one of 'straight_through', 'noise'"),
        (dict(latent_channels=0), r"`latent_channels` must be >= 1"),
    ],
)
def test_build_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compression.build_compression_autoencoder(**kwargs)
