"""Learned image compression (压缩): an autoencoder with a quantised bottleneck, and its bit count.

Compression means fewer *bits*, not fewer pixels.  The encoder maps an image
to a small grid of numbers, each squashed into ``levels`` integer values
(quantisation); those integers are what is stored, entropy coded.  The
decoder is shared by sender and receiver, a fixed cost paid once.

- :func:`build_compression_autoencoder` returns the trainable autoencoder
  and the separate encoder (image -> integer symbols) and decoder (symbols ->
  image).  Rounding has no useful gradient, so training replaces it either by
  a straight-through estimator (round forward, identity backward) or by
  additive uniform noise of the same width (Balle et al. 2017).
- :func:`code_length_bits` counts the ideal code length of the symbols under a
  probability table (an arithmetic coder comes within a few bits of it);
  :func:`compressed_bytes` measures what a standard compressor (``zlib``,
  ``lzma``) really produces.

Used by the Reconstruction chapter.
"""

import lzma
import typing
import zlib

import numpy as np

from cnn_tutor import _validation

__all__ = [
    "COMPRESSORS",
    "CompressionModel",
    "QUANTIZERS",
    "build_compression_autoencoder",
    "code_length_bits",
    "compressed_bytes",
    "encode",
    "symbol_probabilities",
]

#: How the rounding is bypassed in training.
QUANTIZERS = ("straight_through", "noise")
#: Standard compressors of :func:`compressed_bytes`.
COMPRESSORS = ("zlib", "lzma")


class CompressionModel(typing.NamedTuple):
    """What :func:`build_compression_autoencoder` returns (three models sharing their layers)."""

    #: image -> reconstruction, trained end to end (rounding replaced in training).
    autoencoder: typing.Any
    #: image -> integer symbols ``(batch, h / 4, w / 4, latent_channels)`` as float32.
    encoder: typing.Any
    #: symbols -> image.
    decoder: typing.Any
    #: Number of integer values each symbol takes (``-(levels // 2)`` .. ``levels // 2``).
    levels: int


def _quantizer_layer():
    import keras

    class Quantize(keras.layers.Layer):
        """Round to integers; in training, straight-through or additive uniform noise."""

        def __init__(self, mode, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.mode = mode
            self.seed = seed
            self._generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=None):
            ops = keras.ops
            if not training:
                return ops.round(inputs)
            if self.mode == "noise":
                return inputs + keras.random.uniform(ops.shape(inputs), -0.5, 0.5, seed=self._generator)
            return inputs + ops.stop_gradient(ops.round(inputs) - inputs)

        def get_config(self):
            return {**super().get_config(), "mode": self.mode, "seed": self.seed}

    return Quantize


def build_compression_autoencoder(
    channels=1,
    *,
    latent_channels=2,
    levels=5,
    num_filters=32,
    quantizer="straight_through",
    activation="leaky_relu",
    compile=True,
    learning_rate=2e-3,
    seed=None,
):
    """A convolutional autoencoder whose bottleneck holds ``levels`` integer values per number.

    The encoder has two stride-2 convolutions (the image shrinks 4x in each
    direction) and a 3x3 convolution to ``latent_channels`` maps, squashed by
    ``(levels - 1) / 2 * tanh`` and rounded: each latent number becomes one of
    ``levels`` integers.  The decoder mirrors the encoder with transposed
    convolutions and ends with a sigmoid.

    The rate is set by the size of the bottleneck (``latent_channels``) and by
    ``levels``: at most ``log2(levels)`` bits per latent number, usually fewer
    once entropy coded.

    Parameters
    ----------
    channels : int
        Channels of the images.
    latent_channels : int
        Maps in the bottleneck.
    levels : int
        Integer values per latent number (odd, >= 2: 3 gives -1, 0, 1).
    num_filters : int
        Filters of the hidden convolutions.
    quantizer : {"straight_through", "noise"}
        How training gets around the rounding.
    activation : str
        Activation of the hidden layers.  The default leaky ReLU keeps a
        gradient when every latent rounds to 0 at the start of training;
        with ReLU and zero biases such a start can leave the decoder's units
        at exactly 0 with no gradient, and the model outputs a constant.
    compile : bool
        Compile the autoencoder with Adam and the mean squared error.
    learning_rate : float
        Adam's learning rate.
    seed : int, optional
        Seed Keras before the weights are created.

    Returns
    -------
    CompressionModel
        ``(autoencoder, encoder, decoder, levels)``; image height and width
        must be divisible by 4.

    Examples
    --------
    >>> codec = build_compression_autoencoder(latent_channels=2, levels=3, num_filters=4, seed=0)
    >>> symbols = codec.encoder(np.zeros((1, 28, 28, 1), dtype=np.float32)).numpy()
    >>> symbols.shape, set(np.unique(symbols)) <= {-1.0, 0.0, 1.0}
    ((1, 7, 7, 2), True)
    >>> build_compression_autoencoder(quantizer="ste")
    Traceback (most recent call last):
    ...
    ValueError: `quantizer` must be one of 'straight_through', 'noise'; received 'ste'.
    """
    import keras

    channels = _validation.check_int("channels", channels, minimum=1)
    latent_channels = _validation.check_int("latent_channels", latent_channels, minimum=1)
    levels = _validation.check_int("levels", levels, minimum=2)
    if levels % 2 == 0:
        raise ValueError(f"`levels` must be odd, so that 0 is one of the values; received {levels}.")
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    _validation.check_choice("quantizer", quantizer, QUANTIZERS)
    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))
    half = (levels - 1) / 2.0

    image = keras.Input(shape=(None, None, channels), name="image")
    x = keras.layers.Conv2D(num_filters, 5, strides=2, padding="same", activation=activation, name="enc1")(image)
    x = keras.layers.Conv2D(num_filters, 5, strides=2, padding="same", activation=activation, name="enc2")(x)
    x = keras.layers.Conv2D(latent_channels, 3, padding="same", activation="tanh", name="enc3")(x)
    latent = keras.layers.Rescaling(half, name="scale")(x)
    quantize = _quantizer_layer()(quantizer, seed=seed, name="quantize")
    symbols_in = keras.Input(shape=(None, None, latent_channels), name="symbols")
    layers = [
        keras.layers.Conv2DTranspose(num_filters, 5, strides=2, padding="same", activation=activation, name="dec1"),
        keras.layers.Conv2DTranspose(num_filters, 5, strides=2, padding="same", activation=activation, name="dec2"),
        keras.layers.Conv2D(channels, 3, padding="same", name="reconstruction"),
    ]

    def decode(y):
        for layer in layers:
            y = layer(y)
        return y

    autoencoder = keras.Model(image, decode(quantize(latent)), name="compression_autoencoder")
    encoder = keras.Model(image, quantize(latent), name="encoder")
    decoder = keras.Model(symbols_in, decode(symbols_in), name="decoder")
    if compile:
        learning_rate = _validation.check_float("learning_rate", learning_rate)
        autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mean_squared_error")
    return CompressionModel(autoencoder, encoder, decoder, levels)


def encode(codec, images, *, batch_size=256):
    """The integer symbols of ``images`` (int8 NumPy array) from a :class:`CompressionModel`."""
    images = _validation.check_images("images", images)
    symbols = codec.encoder.predict(images, batch_size=batch_size, verbose=0)
    return np.rint(symbols).astype(np.int8)


def _check_symbols(name, symbols):
    array = np.asarray(symbols)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"`{name}` must be integer symbols (for example from `encode`); received dtype {array.dtype}.")
    if array.size == 0:
        raise ValueError(f"`{name}` must hold at least one symbol; received an empty array.")
    return array


def symbol_probabilities(symbols, *, levels, smoothing=1.0):
    """The probability of each of the ``levels`` symbol values, counted in ``symbols``.

    ``smoothing`` is added to every count (Laplace), so a value never seen
    still gets a finite code length.  Values run from ``-(levels // 2)`` to
    ``levels // 2``.

    Examples
    --------
    >>> symbol_probabilities(np.array([0, 0, 1, -1]), levels=3, smoothing=0).round(2)
    array([0.25, 0.5 , 0.25])
    """
    symbols = _check_symbols("symbols", symbols)
    levels = _validation.check_int("levels", levels, minimum=2)
    smoothing = _validation.check_float("smoothing", smoothing, minimum=0.0)
    half = levels // 2
    if symbols.min() < -half or symbols.max() > levels - 1 - half:
        raise ValueError(
            f"`symbols` must lie in [{-half}, {levels - 1 - half}] for {levels} levels; "
            f"received values in [{int(symbols.min())}, {int(symbols.max())}]."
        )
    counts = np.bincount((symbols.ravel() + half).astype(np.int64), minlength=levels) + smoothing
    return counts / counts.sum()


def code_length_bits(symbols, probabilities):
    """Ideal code length of ``symbols``, in bits: ``-sum log2 p(symbol)``.

    With ``probabilities`` counted on other images (the training set), this
    is what an arithmetic coder sharing that table would write, to within a
    few bits; counted on ``symbols`` themselves it is their empirical entropy
    times their number, a lower bound.

    Parameters
    ----------
    symbols : array_like of int
        The integer symbols to code.
    probabilities : array_like
        One probability per value, from :func:`symbol_probabilities`.

    Returns
    -------
    float
        Total bits.

    Examples
    --------
    >>> code_length_bits(np.array([0, 0, 1, -1]), [0.25, 0.5, 0.25])
    6.0
    """
    symbols = _check_symbols("symbols", symbols)
    probabilities = _validation.as_float_array("probabilities", probabilities)
    if probabilities.ndim != 1 or probabilities.size < 2 or np.any(probabilities < 0):
        raise ValueError("`probabilities` must be a 1-D array of non-negative values, one per symbol value.")
    if not np.isclose(probabilities.sum(), 1.0):
        raise ValueError(f"`probabilities` must sum to 1; received a sum of {probabilities.sum():.4g}.")
    half = probabilities.size // 2
    index = symbols.ravel().astype(np.int64) + half
    if index.min() < 0 or index.max() >= probabilities.size:
        raise ValueError(f"`symbols` lie outside the {probabilities.size} values that `probabilities` covers.")
    p = probabilities[index]
    if np.any(p == 0):
        raise ValueError("A symbol has probability 0: it cannot be coded. Count with `smoothing` > 0.")
    return float(-np.log2(p).sum())


def compressed_bytes(symbols, method="lzma"):
    """Bytes that a standard compressor writes for ``symbols`` (stored as int8, in C order).

    ``zlib`` writes a raw DEFLATE stream (no zlib header or checksum),
    ``lzma`` a raw LZMA2 stream (no container), so only the coded data is
    counted.

    Examples
    --------
    >>> compressed_bytes(np.zeros(10_000, dtype=np.int8), "zlib") < 100
    True
    >>> compressed_bytes(np.zeros(4, dtype=np.int8), "gzip")
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of 'zlib', 'lzma'; received 'gzip'.
    """
    symbols = _check_symbols("symbols", symbols)
    _validation.check_choice("method", method, COMPRESSORS)
    if symbols.min() < -128 or symbols.max() > 127:
        raise ValueError("`symbols` must fit in int8 ([-128, 127]) to be stored one byte each.")
    data = np.ascontiguousarray(symbols, dtype=np.int8).tobytes()
    if method == "zlib":
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return len(compressor.compress(data) + compressor.flush())
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
    return len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters))
