"""Tests for cnn_tutor.models.compression: quantised autoencoder and bit counting."""

import lzma
import zlib

import numpy as np
import pytest

from cnn_tutor import data
from cnn_tutor.models import compression


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
    decoded = codec.decoder(symbols.astype(np.float32)).numpy()
    np.testing.assert_allclose(decoded, codec.autoencoder(digits).numpy(), atol=1e-5)


def test_straight_through_rounds_forward_and_passes_gradients():
    import tensorflow as tf

    codec = compression.build_compression_autoencoder(num_filters=4, seed=0)
    layer = codec.autoencoder.get_layer("quantize")
    x = tf.constant([[0.2, 0.7, -1.4]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    np.testing.assert_array_equal(y.numpy(), [[0.0, 1.0, -1.0]])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), np.ones((1, 3)))


def test_noise_quantizer_adds_bounded_noise_in_training_and_rounds_at_test():
    codec = compression.build_compression_autoencoder(num_filters=4, quantizer="noise", seed=0)
    layer = codec.autoencoder.get_layer("quantize")
    x = np.linspace(-2, 2, 1000, dtype=np.float32)[None]
    noisy = layer(x, training=True).numpy()
    assert np.all(np.abs(noisy - x) <= 0.5) and np.std(noisy - x) > 0.2
    np.testing.assert_array_equal(layer(x, training=False).numpy(), np.round(x))


def test_one_training_step(digits):
    codec = compression.build_compression_autoencoder(num_filters=4, seed=0)
    history = codec.autoencoder.fit(digits, digits, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])


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


def test_code_length_of_uniform_symbols_is_log2_levels():
    symbols = np.tile(np.arange(-2, 3), 20)
    table = compression.symbol_probabilities(symbols, levels=5, smoothing=0)
    np.testing.assert_allclose(table, 0.2)
    assert np.isclose(compression.code_length_bits(symbols, table), symbols.size * np.log2(5))
    # A table counted elsewhere costs more than the symbols' own entropy (Gibbs' inequality).
    skewed = compression.symbol_probabilities(np.zeros(10, np.int64), levels=5, smoothing=1)
    assert compression.code_length_bits(symbols, skewed) > compression.code_length_bits(symbols, table)


def test_bit_counting_errors():
    with pytest.raises(ValueError, match=r"`symbols` must lie in \[-1, 1\] for 3 levels; received values in \[-2, 0\]"):
        compression.symbol_probabilities(np.array([-2, 0]), levels=3)
    with pytest.raises(TypeError, match=r"`symbols` must be integer symbols"):
        compression.code_length_bits(np.array([0.5]), [0.5, 0.5])
    with pytest.raises(ValueError, match=r"`probabilities` must sum to 1"):
        compression.code_length_bits(np.array([0]), [0.5, 0.4, 0.3])
    with pytest.raises(ValueError, match=r"probability 0: it cannot be coded"):
        compression.code_length_bits(np.array([1]), [0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match=r"outside the 3 values"):
        compression.code_length_bits(np.array([5]), [0.2, 0.6, 0.2])


@pytest.mark.parametrize("method", compression.COMPRESSORS)
def test_compressed_bytes_is_a_real_raw_stream(method):
    symbols = np.random.default_rng(0).integers(-2, 3, size=(4, 7, 7, 2)).astype(np.int8)
    size = compression.compressed_bytes(symbols, method)
    assert 0 < size < symbols.size
    assert compression.compressed_bytes(np.zeros(5000, np.int8), method) < 100
    if method == "zlib":
        payload = zlib.compressobj(9, zlib.DEFLATED, -15)
        data_ = payload.compress(symbols.tobytes()) + payload.flush()
        assert zlib.decompress(data_, -15) == symbols.tobytes() and len(data_) == size
    else:
        filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
        data_ = lzma.compress(symbols.tobytes(), format=lzma.FORMAT_RAW, filters=filters)
        assert lzma.decompress(data_, format=lzma.FORMAT_RAW, filters=filters) == symbols.tobytes()
    with pytest.raises(ValueError, match=r"`method` must be one of 'zlib', 'lzma'"):
        compression.compressed_bytes(symbols, "gzip")
    with pytest.raises(ValueError, match=r"must fit in int8"):
        compression.compressed_bytes(np.array([300]), method)
