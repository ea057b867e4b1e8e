"""The codec's network: the DCT-initialised transforms, the hyperprior, its layers and losses.

Private: the public names are re-exported by :mod:`cnn_tutor.models.codec`,
which says what the codec is.  Its training lives in ``_training`` and its
bitstream (tables, :func:`~cnn_tutor.models.codec.compress`,
:func:`~cnn_tutor.models.codec.decompress`) in ``_bitstream``.
"""

import keras
import numpy as np
from keras import ops

from cnn_tutor import _validation
from cnn_tutor.models import entropy as entropy_models

_HYPER_FACTOR = 4  # z is 4 x 4 times coarser than y


def dct_basis(block_size=8):
    """The orthonormal 2-D DCT-II basis of ``block_size x block_size`` blocks, JPEG's transform.

    Returns
    -------
    numpy.ndarray
        float64 ``(block_size**2, block_size, block_size)``: basis image
        ``k`` is ``C[u] (x) C[v]`` with ``C[u, i] = a_u cos(pi (2 i + 1) u / (2 n))``,
        ordered by frequency ``u + v`` (then ``u``), so channel 0 is the
        block mean (DC) and the last is the finest checkerboard.

    Examples
    --------
    >>> basis = dct_basis(4)
    >>> flat = basis.reshape(16, 16)
    >>> bool(np.allclose(flat @ flat.T, np.eye(16))), basis[0].round(3).tolist()[0]
    (True, [0.25, 0.25, 0.25, 0.25])
    """
    n = _validation.check_int("block_size", block_size, minimum=1)
    i = np.arange(n)
    C = np.cos(np.pi * (2 * i[None, :] + 1) * i[:, None] / (2 * n)) * np.sqrt(2.0 / n)
    C[0] /= np.sqrt(2.0)
    order = sorted(((u, v) for u in range(n) for v in range(n)), key=lambda uv: (uv[0] + uv[1], uv[0]))
    return np.stack([np.outer(C[u], C[v]) for u, v in order])


def initial_gain(rate_weight):
    """Latent gain where rounding is optimal at high rate for ``loss = MSE_255 + rate_weight * bpp``.

    For an orthonormal transform with one coefficient per pixel, rounding
    ``gain * coefficient`` is a uniform quantiser of step ``1 / gain``:
    distortion ``255**2 / (12 gain**2)`` per pixel and rate ``log2(gain) + const``
    bits per pixel at high rate.  Their weighted sum is smallest at
    ``gain = 255 / sqrt(6 rate_weight / ln 2)``.

    Examples
    --------
    >>> round(initial_gain(30.0), 2)
    15.82
    """
    rate_weight = _validation.check_float("rate_weight", rate_weight)
    if rate_weight <= 0:
        raise ValueError(f"`rate_weight` must be > 0; received {rate_weight}.")
    return float(255.0 / np.sqrt(6.0 * rate_weight / np.log(2.0)))


@keras.saving.register_keras_serializable(package="cnn_tutor")
class ChannelGain(keras.layers.Layer):
    """Multiply (or divide) each channel by a learned positive gain, ``exp(log_gain)``.

    In the analysis transform the gain sets each channel's quantisation step
    (rounding ``gain * y`` has step ``1 / gain`` in ``y``); the synthesis has
    its own inverse gain.  Learning the logarithm lets a gain change by a
    constant factor per step, whatever its size.

    Examples
    --------
    >>> layer = ChannelGain(initial=4.0)
    >>> keras.ops.convert_to_numpy(layer(np.ones((1, 1, 1, 2), "float32"))).round(4).tolist()
    [[[[4.0, 4.0]]]]
    >>> keras.ops.convert_to_numpy(ChannelGain(initial=4.0, inverse=True)(np.ones((1, 1, 1, 1), "float32"))).item()
    0.25
    """

    def __init__(self, initial=1.0, inverse=False, **kwargs):
        super().__init__(**kwargs)
        self.initial = _validation.check_float("initial", initial)
        if self.initial <= 0:
            raise ValueError(f"`initial` must be > 0; received {initial}.")
        self.inverse = bool(inverse)

    def build(self, input_shape):
        self.log_gain = self.add_weight(
            name="log_gain", shape=(input_shape[-1],), initializer=keras.initializers.Constant(np.log(self.initial))
        )

    def call(self, inputs):
        return inputs * ops.exp(-self.log_gain if self.inverse else self.log_gain)

    def get_config(self):
        return {**super().get_config(), "initial": self.initial, "inverse": self.inverse}


@keras.saving.register_keras_serializable(package="cnn_tutor")
class RatePerPixel(keras.layers.Layer):
    """Code length of each image in bits per pixel: ``-sum log2 p`` over all its latents, over its pixel count.

    Call it on ``[likelihoods_1, ..., likelihoods_k, images]``; it returns ``(batch,)``.

    Examples
    --------
    >>> likelihoods = np.full((1, 1, 1, 4), 0.5, dtype="float32")   # 4 latents of 1 bit each
    >>> side = np.full((1, 1, 1, 1), 0.25, dtype="float32")         # and one of 2 bits
    >>> images = np.zeros((1, 2, 3, 1), dtype="float32")             # 6 pixels
    >>> keras.ops.convert_to_numpy(RatePerPixel()([likelihoods, side, images])).tolist()
    [1.0]
    """

    def call(self, inputs):
        *likelihoods, images = inputs
        bits = sum(-ops.sum(ops.log(p), axis=(1, 2, 3)) for p in likelihoods) / np.log(2.0)
        shape = ops.shape(images)
        return bits / ops.cast(shape[1] * shape[2], bits.dtype)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor((inputs[0].shape[0],), dtype=inputs[0].dtype)


@keras.saving.register_keras_serializable(package="cnn_tutor")
def distortion_loss(y_true, y_pred):
    """Mean squared error on the 0-255 scale, per image (the distortion term of the codec's loss)."""
    return ops.mean(ops.square(y_true - y_pred), axis=(1, 2, 3)) * 255.0**2


@keras.saving.register_keras_serializable(package="cnn_tutor")
def rate_loss(y_true, y_pred):
    """The rate term: the model's own bits-per-pixel output (``y_true`` is a placeholder and ignored)."""
    return y_pred + 0.0 * ops.cast(ops.reshape(y_true, ops.shape(y_pred)), y_pred.dtype)


@keras.saving.register_keras_serializable(package="cnn_tutor")
def bits_loss(y_true, y_pred):
    """Mean code length in bits, ``-log2 p``, of likelihoods ``y_pred`` (``y_true`` is ignored)."""
    bits = -ops.mean(ops.log(y_pred), axis=tuple(range(1, len(y_pred.shape)))) / np.log(2.0)
    return bits + 0.0 * ops.mean(ops.cast(y_true, y_pred.dtype))


def _residual_branch(x, channels, num_filters, layers, label):
    """``x + f(x)``, ``f`` a stack of 3x3 convolutions whose last layer starts at zero (so ``f = 0`` at first)."""
    h = x
    for index in range(layers - 1):
        h = keras.layers.Conv2D(num_filters, 3, padding="same", activation="relu", name=f"{label}_conv{index + 1}")(h)
    h = keras.layers.Conv2D(channels, 3, padding="same", kernel_initializer="zeros", name=f"{label}_out")(h)
    # Adam's first steps move every weight by about the learning rate; entering at a tenth of its size,
    # the branch nudges the DCT coefficients instead of overwriting them.
    h = keras.layers.Rescaling(0.1, name=f"{label}_scale")(h)
    return keras.layers.Add(name=f"{label}_add")([x, h])


def _hyper_transforms(channels, hyper_channels, num_filters):
    latents = keras.Input((None, None, channels), name="latents")
    h = keras.layers.Conv2D(num_filters, 3, padding="same", activation="relu", name="h_a1")(latents)
    h = keras.layers.Conv2D(num_filters, 5, strides=2, padding="same", activation="relu", name="h_a2")(h)
    h = keras.layers.Conv2D(hyper_channels, 5, strides=2, padding="same", name="h_a3")(h)
    hyper_analysis = keras.Model(latents, h, name="hyper_analysis")

    side = keras.Input((None, None, hyper_channels), name="side")
    h = keras.layers.Conv2DTranspose(num_filters, 5, strides=2, padding="same", activation="relu", name="h_s1")(side)
    h = keras.layers.Conv2DTranspose(num_filters, 5, strides=2, padding="same", activation="relu", name="h_s2")(h)
    # The means and log-scales start as per-channel constants (the bias, set by initialize_entropy_models).
    h = keras.layers.Conv2D(2 * channels, 3, padding="same", kernel_initializer="zeros", name="h_s3")(h)
    hyper_synthesis = keras.Model(side, h, name="hyper_synthesis")
    return hyper_analysis, hyper_synthesis


def build_codec(
    *,
    block_size=8,
    kernel_size=16,
    num_filters=96,
    residual_layers=3,
    hyper_channels=32,
    hyper_filters=64,
    rate_weight=30.0,
    distribution="laplace",
    seed=None,
    name="codec",
):
    """A learned transform codec for grey images that starts as JPEG's transform and learns the rest.

    - **analysis** ``g_a``: a strided convolution (stride ``block_size``,
      kernel ``kernel_size`` >= ``block_size``) initialised with the
      orthonormal DCT of :func:`dct_basis` in its central taps and zeros
      around them (so it can learn overlapping, lapped bases), a residual
      stack of 3x3 convolutions across neighbouring blocks whose last layer
      starts at zero, and a gain per channel;
    - **hyperprior**: ``h_a`` (three convolutions, two of stride 2) maps
      ``y`` to side information ``z`` with ``hyper_channels`` channels,
      coded under a factorised model; ``h_s`` (two transposed convolutions
      and a 3x3 convolution) maps ``z_hat`` to a mean and a log-scale for
      each latent;
    - **synthesis** ``g_s``: the inverse gain, a residual stack, and a
      transposed convolution initialised with the same DCT taps (the
      adjoint, which inverts an orthonormal transform).

    At initialisation, without quantisation, ``g_s(g_a(x)) = x`` exactly:
    training starts from a DCT transform coder with uniform step
    ``1 / initial_gain(rate_weight)``.

    Parameters
    ----------
    block_size : int
        Stride of the transform: one latent position per ``block_size x
        block_size`` pixels, ``block_size**2`` channels.
    kernel_size : int
        Taps of the (transposed) convolution: ``block_size`` plus an even margin.
    num_filters : int
        Filters of the hidden layers of the residual stacks.
    residual_layers : int
        Convolutions in each residual stack (>= 1).
    hyper_channels, hyper_filters : int
        Channels of ``z`` and filters of the hidden layers of ``h_a`` and ``h_s``.
    rate_weight : float
        The ``lambda`` the codec will be trained for; it sets the initial
        gain (:func:`initial_gain`).
    seed : int, optional
        Seeds the weights and the training noise (default: Keras' global
        seed, which :func:`cnn_tutor.setup` sets).
    name : str
        The model's name.

    Returns
    -------
    keras.Model
        Input ``(batch, height, width, 1)``, sides multiples of
        ``4 * block_size``; outputs a dict: ``"image"`` (the reconstruction)
        and ``"rate"`` (bits per pixel, ``(batch,)``).  Its sub-models and
        layers ``"analysis"``, ``"hyper_analysis"``, ``"side_entropy"``,
        ``"hyper_synthesis"``, ``"latent_entropy"`` and ``"synthesis"`` are what
        :func:`compress` and :func:`decompress` use.

    Examples
    --------
    >>> codec = build_codec(block_size=4, kernel_size=8, num_filters=8, hyper_filters=8, seed=0)
    >>> x = np.random.default_rng(0).random((1, 16, 16, 1)).astype("float32")
    >>> y = codec.get_layer("analysis")(x)
    >>> tuple(y.shape), float(np.abs(codec.get_layer("synthesis")(y) - x).max()) < 1e-5
    ((1, 4, 4, 16), True)
    >>> build_codec(block_size=8, kernel_size=9)
    Traceback (most recent call last):
    ...
    ValueError: `kernel_size` must be `block_size` plus an even margin (8, 10, 12, ...); received 9.
    """
    block_size = _validation.check_int("block_size", block_size, minimum=1)
    kernel_size = _validation.check_int("kernel_size", kernel_size, minimum=1)
    if kernel_size < block_size or (kernel_size - block_size) % 2:
        raise ValueError(
            f"`kernel_size` must be `block_size` plus an even margin ({block_size}, {block_size + 2}, "
            f"{block_size + 4}, ...); received {kernel_size}."
        )
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    residual_layers = _validation.check_int("residual_layers", residual_layers, minimum=1)
    hyper_channels = _validation.check_int("hyper_channels", hyper_channels, minimum=1)
    hyper_filters = _validation.check_int("hyper_filters", hyper_filters, minimum=1)
    gain = initial_gain(rate_weight)
    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))
    channels = block_size**2

    pixels = keras.Input((None, None, 1), name="pixels")
    x = keras.layers.Rescaling(1.0, offset=-0.5, name="centre")(pixels)
    x = keras.layers.Conv2D(channels, kernel_size, strides=block_size, padding="same", name="transform")(x)
    x = _residual_branch(x, channels, num_filters, residual_layers, "analysis_residual")
    analysis = keras.Model(pixels, ChannelGain(gain, name="gain")(x), name="analysis")

    latents = keras.Input((None, None, channels), name="latents")
    z = ChannelGain(gain, inverse=True, name="inverse_gain")(latents)
    z = _residual_branch(z, channels, num_filters, residual_layers, "synthesis_residual")
    z = keras.layers.Conv2DTranspose(1, kernel_size, strides=block_size, padding="same", name="inverse_transform")(z)
    synthesis = keras.Model(latents, keras.layers.Rescaling(1.0, offset=0.5, name="uncentre")(z), name="synthesis")

    taps = np.zeros((kernel_size, kernel_size, 1, channels), dtype="float32")
    margin = (kernel_size - block_size) // 2
    taps[margin : margin + block_size, margin : margin + block_size, 0, :] = dct_basis(block_size).transpose(1, 2, 0)
    analysis.get_layer("transform").set_weights([taps, np.zeros(channels, "float32")])
    synthesis.get_layer("inverse_transform").set_weights([taps, np.zeros(1, "float32")])

    hyper_analysis, hyper_synthesis = _hyper_transforms(channels, hyper_channels, hyper_filters)
    side_entropy = entropy_models.FactorizedEntropyModel(seed=seed, name="side_entropy")
    latent_entropy = entropy_models.GaussianConditional(
        distribution=distribution, seed=None if seed is None else seed + 1, name="latent_entropy"
    )

    images = keras.Input((None, None, 1), name="images")
    y = analysis(images)
    z_hat, z_likelihoods = side_entropy(hyper_analysis(y))
    y_hat, y_likelihoods = latent_entropy([y, hyper_synthesis(z_hat)])
    outputs = {
        "image": synthesis(y_hat),
        "rate": RatePerPixel(name="rate")([y_likelihoods, z_likelihoods, images]),
    }
    return keras.Model(images, outputs, name=name)


def _block_size(model):
    return int(model.get_layer("analysis").get_layer("transform").strides[0])
