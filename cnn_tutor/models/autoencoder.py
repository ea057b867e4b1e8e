"""A convolutional autoencoder (自编码器): encoder, bottleneck, decoder.

:func:`build_encoder` compresses a 28x28 image into a ``latent_dim`` vector
with two stride-2 convolutions; :func:`build_decoder` mirrors it with
transposed convolutions and a sigmoid output in [0, 1];
:func:`build_autoencoder` chains them and compiles with binary cross-entropy.

Trained to reconstruct, an autoencoder is not a generator: nothing makes its
latent codes fill a known distribution, so decoding random vectors gives
blurry non-digits (the Generation chapter shows it and compares it with the
VAE).

Used by the Generation chapter.
"""

import keras
import numpy as np

from cnn_tutor import _validation
from cnn_tutor.models._common import seed_weights

__all__ = ["build_autoencoder", "build_decoder", "build_encoder", "sample_latent_like"]


def _check_shape(image_shape):
    return _validation.check_shape3("image_shape", image_shape, divisible_by=4)


def _check_pair(name, filters, example):
    if isinstance(filters, (str, bytes)) or not isinstance(filters, (tuple, list)) or len(filters) != 2:
        raise ValueError(f"`{name}` must be a pair of ints, e.g. {example}; received {filters!r}.")
    return _validation.int_sequence(name, filters, example=example)


def build_encoder(latent_dim=16, image_shape=(28, 28, 1), *, filters=(32, 64), outputs=1, name="encoder"):
    """Convolutional encoder: images -> ``outputs`` vectors of size ``latent_dim``.

    ``Conv2D(filters[0], 3, stride 2) -> Conv2D(filters[1], 3, stride 2) ->
    Flatten -> Dense(latent_dim)`` (ReLU in the hidden layers).  The VAE asks
    for ``outputs=2`` (a mean and a log-variance).

    Parameters
    ----------
    latent_dim : int
        Size of the code (the bottleneck).
    image_shape : (int, int, int)
        Shape of one image; height and width divisible by 4.
    filters : (int, int)
        Filters of the two convolutions.
    outputs : int
        How many ``latent_dim`` vectors the encoder returns (1 or 2).
    name : str
        The model's name.

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> build_encoder(latent_dim=2, filters=(4, 8)).output_shape
    (None, 2)
    """
    latent_dim = _validation.check_int("latent_dim", latent_dim, minimum=1)
    image_shape = _check_shape(image_shape)
    filters = _check_pair("filters", filters, (32, 64))
    outputs = _validation.check_int("outputs", outputs, minimum=1)
    inputs = keras.Input(shape=image_shape, name="image")
    x = keras.layers.Conv2D(filters[0], 3, strides=2, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(filters[1], 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if outputs == 1:
        codes = keras.layers.Dense(latent_dim, name="code")(x)
    else:
        codes = [keras.layers.Dense(latent_dim, name=f"code{i}")(x) for i in range(outputs)]
    return keras.Model(inputs, codes, name=name)


def build_decoder(latent_dim=16, image_shape=(28, 28, 1), *, filters=(64, 32), name="decoder"):
    """Convolutional decoder: codes ``(batch, latent_dim)`` -> images in [0, 1].

    ``Dense -> (h/4, w/4, filters[0]) -> Conv2DTranspose(filters[0], stride 2)
    -> Conv2DTranspose(filters[1], stride 2) -> Conv2D(channels, sigmoid)``.

    Examples
    --------
    >>> build_decoder(latent_dim=2, filters=(8, 4)).output_shape
    (None, 28, 28, 1)
    """
    latent_dim = _validation.check_int("latent_dim", latent_dim, minimum=1)
    height, width, channels = _check_shape(image_shape)
    filters = _check_pair("filters", filters, (64, 32))
    inputs = keras.Input(shape=(latent_dim,), name="code")
    x = keras.layers.Dense((height // 4) * (width // 4) * filters[0], activation="relu", name="project")(inputs)
    x = keras.layers.Reshape((height // 4, width // 4, filters[0]), name="reshape")(x)
    x = keras.layers.Conv2DTranspose(filters[0], 3, strides=2, padding="same", activation="relu", name="up1")(x)
    x = keras.layers.Conv2DTranspose(filters[1], 3, strides=2, padding="same", activation="relu", name="up2")(x)
    outputs = keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="image")(x)
    return keras.Model(inputs, outputs, name=name)


def build_autoencoder(latent_dim=16, image_shape=(28, 28, 1), *, optimizer="adam", seed=None, name="autoencoder"):
    """Encoder and decoder chained, compiled to reconstruct its input with binary cross-entropy.

    Parameters
    ----------
    latent_dim : int
        Size of the bottleneck.
    image_shape : (int, int, int)
        Shape of one image.
    optimizer : str or keras.optimizers.Optimizer
        Passed to ``compile``.
    seed : int, optional
        Seed of the initial weights (``None``: the runtime's seed).
    name : str
        The model's name.

    Returns
    -------
    keras.Model
        A functional model whose two layers ``encoder`` and ``decoder`` are
        the two halves (also as attributes of that name); train it with
        :func:`cnn_tutor.models.training.fit` ``(model, images, images, ...)``.

    Examples
    --------
    >>> ae = build_autoencoder(latent_dim=4)
    >>> ae.encoder.output_shape, ae.decoder.output_shape
    ((None, 4), (None, 28, 28, 1))
    """
    seed_weights(seed)
    encoder = build_encoder(latent_dim, image_shape)
    decoder = build_decoder(latent_dim, image_shape)
    inputs = keras.Input(shape=tuple(image_shape), name="image")
    model = keras.Model(inputs, decoder(encoder(inputs)), name=name)
    model.encoder, model.decoder = encoder, decoder  # also model.get_layer("encoder"), e.g. after reloading
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    return model


def sample_latent_like(codes, num_samples, *, rng=0):
    """Random codes from a Gaussian with the mean and covariance of ``codes``.

    The most favourable way to "generate" with a plain autoencoder: draw new
    codes that at least match the first two moments of the training codes.

    Parameters
    ----------
    codes : array_like
        ``(n, latent_dim)`` codes of training images (``n >= 2``).
    num_samples : int
        How many codes to draw.
    rng : int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    numpy.ndarray
        float32 ``(num_samples, latent_dim)``.

    Examples
    --------
    >>> sample_latent_like(np.random.default_rng(0).normal(size=(100, 3)), 5).shape
    (5, 3)
    """
    codes = _validation.as_float_array("codes", codes).astype(np.float64)
    _validation.check_ndim("codes", codes, 2, "(samples, latent_dim)")
    if len(codes) < 2:
        raise ValueError(f"`codes` needs at least 2 rows to estimate a covariance; received {len(codes)}.")
    num_samples = _validation.check_int("num_samples", num_samples, minimum=1)
    rng = _validation.as_rng("rng", rng)
    mean = codes.mean(axis=0)
    cov = np.atleast_2d(np.cov(codes, rowvar=False))
    return rng.multivariate_normal(mean, cov, size=num_samples, method="eigh").astype(np.float32)
