"""Learned image compression (压缩): an autoencoder with a quantised bottleneck.

Compression means fewer *bits*, not fewer pixels.  The encoder maps an image
to a small grid of numbers, each squashed into ``levels`` integer values
(quantisation); those integers are what is stored, entropy coded.  The
decoder is shared by sender and receiver, a fixed cost paid once.

:func:`build_compression_autoencoder` returns the trainable autoencoder and
the separate encoder (image -> integer symbols) and decoder (symbols ->
image).  Rounding has no useful gradient, so training replaces it either by
a straight-through estimator (round forward, identity backward) or by
additive uniform noise of the same width (Balle et al. 2017;
:class:`cnn_tutor.models.layers.Quantize`).  :func:`encode` gives the
symbols; what they cost in bits is measured in :mod:`cnn_tutor.metrics`
(:func:`~cnn_tutor.metrics.code_length_bits`,
:func:`~cnn_tutor.metrics.compressed_bytes`).

Used by the Reconstruction chapter.
"""

import typing

import keras
import numpy as np

from cnn_tutor import _validation
from cnn_tutor.models import layers
from cnn_tutor.models._common import seed_weights

__all__ = ["QUANTIZERS", "CompressionModel", "build_compression_autoencoder", "encode"]

#: How the rounding is bypassed in training (see :class:`cnn_tutor.models.layers.Quantize`).
QUANTIZERS = layers.QUANTIZERS


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
    convolutions and ends with a linear 3x3 convolution (outputs are clipped
    to [0, 1] where images are made from them).

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
        Seed of the initial weights and of the quantisation noise (``None``:
        the runtime's seed).

    Returns
    -------
    CompressionModel
        ``(autoencoder, encoder, decoder, levels)``; image height and width
        must be divisible by 4.

    Examples
    --------
    >>> codec = build_compression_autoencoder(latent_channels=2, levels=3, num_filters=4, seed=0)
    >>> symbols = np.asarray(codec.encoder(np.zeros((1, 28, 28, 1), dtype=np.float32)))
    >>> symbols.shape, set(np.unique(symbols)) <= {-1.0, 0.0, 1.0}
    ((1, 7, 7, 2), True)
    >>> build_compression_autoencoder(quantizer="ste")
    Traceback (most recent call last):
    ...
    ValueError: `quantizer` must be one of 'straight_through', 'noise'; received 'ste'.
    """
    channels = _validation.check_int("channels", channels, minimum=1)
    latent_channels = _validation.check_int("latent_channels", latent_channels, minimum=1)
    levels = _validation.check_int("levels", levels, minimum=2)
    if levels % 2 == 0:
        raise ValueError(f"`levels` must be odd, so that 0 is one of the values; received {levels}.")
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    _validation.check_choice("quantizer", quantizer, QUANTIZERS)
    seed = seed_weights(seed)
    half = (levels - 1) / 2.0

    image = keras.Input(shape=(None, None, channels), name="image")
    x = keras.layers.Conv2D(num_filters, 5, strides=2, padding="same", activation=activation, name="enc1")(image)
    x = keras.layers.Conv2D(num_filters, 5, strides=2, padding="same", activation=activation, name="enc2")(x)
    x = keras.layers.Conv2D(latent_channels, 3, padding="same", activation="tanh", name="enc3")(x)
    latent = keras.layers.Rescaling(half, name="scale")(x)
    quantize = layers.Quantize(quantizer, seed=seed, name="quantize")
    symbols_in = keras.Input(shape=(None, None, latent_channels), name="symbols")
    decoder_layers = [
        keras.layers.Conv2DTranspose(num_filters, 5, strides=2, padding="same", activation=activation, name="dec1"),
        keras.layers.Conv2DTranspose(num_filters, 5, strides=2, padding="same", activation=activation, name="dec2"),
        keras.layers.Conv2D(channels, 3, padding="same", name="reconstruction"),
    ]

    def decode(y):
        for layer in decoder_layers:
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
    """The integer symbols of ``images`` (int8 NumPy array) from a :class:`CompressionModel`.

    Parameters
    ----------
    codec : CompressionModel
        From :func:`build_compression_autoencoder`.
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1], height and width
        divisible by 4.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    numpy.ndarray
        int8 ``(batch, height / 4, width / 4, latent_channels)``.
    """
    images = _validation.check_images("images", images)
    symbols = codec.encoder.predict(images, batch_size=batch_size, verbose=0)
    return np.rint(symbols).astype(np.int8)
