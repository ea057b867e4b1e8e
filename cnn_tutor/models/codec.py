"""A learned image codec with a rate term, trained on distortion + lambda x rate, that writes real bytes.

The codec (for grey images) has the parts of Balle et al. (2017, 2018):

- an **analysis transform** ``g_a`` maps the image to latents ``y``, one
  position per ``8 x 8`` block and 64 channels.  It *starts* as JPEG's
  transform: a strided convolution initialised with the orthonormal DCT
  (:func:`dct_basis`), then a residual stack of convolutions across
  neighbouring blocks whose last layer starts at zero, then a learned gain
  per channel (:class:`ChannelGain`), which sets each channel's
  quantisation step; every weight is then trained;
- a **hyperprior**: a small network ``h_a`` summarises ``y`` into side
  information ``z`` (4 x 4 times coarser still), coded with a learned
  factorised model (:class:`cnn_tutor.models.entropy.FactorizedEntropyModel`);
  ``h_s`` maps the decoded ``z`` to a mean and a scale for every latent,
  and ``y`` is coded under those Gaussians
  (:class:`cnn_tutor.models.entropy.GaussianConditional`);
- a **synthesis transform** ``g_s`` mirrors ``g_a`` (inverse gain,
  residual stack, transposed convolution initialised with the same DCT
  taps) and maps the quantised latents back to pixels.

The **rate** is the code length of ``y`` and ``z`` under the entropy
models, ``-sum log2 p``, in bits per pixel; rounding is replaced by additive
uniform noise in training.  :func:`train_codec` minimises
``MSE_255 + rate_weight * bits_per_pixel``; sweeping ``rate_weight`` traces a
rate-distortion curve.  :func:`compress` writes each image as a byte string
(a header, the coded ``z``, the coded ``y``) with the range coder of
:mod:`cnn_tutor.coding`, and :func:`decompress` reads it back.

Used by the Photographs chapter.
"""

import typing

import keras
import numpy as np
from keras import ops

from cnn_tutor import _validation, coding
from cnn_tutor.models import entropy as entropy_models

__all__ = [
    "HEADER_BYTES",
    "ChannelGain",
    "CodecTables",
    "RatePerPixel",
    "bits_loss",
    "build_codec",
    "codec_tables",
    "compress",
    "dct_basis",
    "decompress",
    "distortion_loss",
    "estimate_bits",
    "initial_gain",
    "initialize_entropy_models",
    "rate_loss",
    "rescale_codec",
    "train_codec",
]

#: Bytes of header in each file of :func:`compress`: height and width (2 bytes each), the model index (1 byte)
#: and the length of the side information's stream (3 bytes).
HEADER_BYTES = 8
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


def _check_patches(model, patches):
    patches = _validation.check_images("patches", patches, channels=1)
    multiple = _HYPER_FACTOR * _block_size(model)
    if patches.shape[1] % multiple or patches.shape[2] % multiple:
        raise ValueError(
            f"`patches` must have sides that are multiples of {multiple} (4 x the block size); "
            f"received shape {patches.shape}."
        )
    return patches


def _in_batches(function, array, size=256):
    return np.concatenate([ops.convert_to_numpy(function(array[i : i + size])) for i in range(0, len(array), size)])


def initialize_entropy_models(model, patches, *, steps=200, batch_size=64, learning_rate=1e-2, rng=0):
    """Start both entropy models from the latents of ``patches``, the transforms held fixed.

    A freshly built codec would first spend its training on learning what
    its latents look like.  This sets it up in closed form and with a
    cheap fit instead:

    1. the Gaussian model of ``y`` starts as one Gaussian per channel, the
       same everywhere: the output bias of ``h_s`` is set to each channel's
       mean and log standard deviation over the patches (its kernel starts
       at zero, so the side information changes nothing yet);
    2. the factorised model of ``z`` is fitted alone to ``h_a(y)`` (Adam on
       ``-log2 p``, no convolutions involved), with a large learning rate.

    Parameters
    ----------
    model : keras.Model
        From :func:`build_codec`.
    patches : array_like
        ``(n, size, size, 1)`` in [0, 1].
    steps, batch_size, learning_rate, rng
        Adam steps of the fit of the side information's model.

    Returns
    -------
    float
        Mean bits per side-information latent over the last tenth of the steps.
    """
    patches = _check_patches(model, patches)
    steps = _validation.check_int("steps", steps, minimum=1)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    learning_rate = _validation.check_float("learning_rate", learning_rate)
    if learning_rate <= 0:
        raise ValueError(f"`learning_rate` must be > 0; received {learning_rate}.")
    rng = _validation.as_rng("rng", rng)
    y = _in_batches(model.get_layer("analysis"), patches)
    head = model.get_layer("hyper_synthesis").get_layer("h_s3")
    kernel, _ = head.get_weights()
    means = y.mean(axis=(0, 1, 2))
    spread = y.std(axis=(0, 1, 2))
    if model.get_layer("latent_entropy").distribution == "laplace":
        spread = spread / np.sqrt(2.0)  # a Laplace distribution of scale b has standard deviation b sqrt(2)
    log_scales = np.log(np.maximum(spread, entropy_models.SCALE_BOUNDS[0]))
    head.set_weights([kernel, np.concatenate([means, log_scales]).astype("float32")])

    z = _in_batches(model.get_layer("hyper_analysis"), y)
    side_entropy = model.get_layer("side_entropy")
    inputs = keras.Input(z.shape[1:])
    fitter = keras.Model(inputs, side_entropy(inputs, training=True)[1])
    fitter.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=bits_loss)
    zeros = np.zeros(batch_size, dtype="float32")
    logs = [fitter.train_on_batch(z[rng.integers(0, len(z), size=batch_size)], zeros) for _ in range(steps)]
    return float(np.mean(logs[-max(1, steps // 10) :]))


def train_codec(
    model, patches, *, rate_weight, steps, batch_size=16, learning_rate=3e-4, final_learning_rate=None, rng=0
):
    """Train a codec on ``MSE_255 + rate_weight * bits_per_pixel`` over random batches of patches.

    Each call compiles the model with a fresh Adam optimiser whose learning
    rate falls from ``learning_rate`` to ``final_learning_rate`` along a
    cosine over the ``steps``; so a trained codec can be fine-tuned at another
    ``rate_weight`` (another point of the rate-distortion curve) by calling
    it again, usually on a copy (``keras.models.clone_model`` and
    ``set_weights``).

    Parameters
    ----------
    model : keras.Model
        From :func:`build_codec` (after :func:`initialize_entropy_models`).
    patches : array_like
        ``(n, size, size, 1)`` in [0, 1], sides multiples of 4 x the block size.
    rate_weight : float
        ``lambda`` in ``loss = MSE_255 + lambda * bits_per_pixel``; larger
        means smaller files.
    steps : int
        Optimiser steps.
    batch_size : int
        Patches per step.
    learning_rate, final_learning_rate : float
        Adam's learning rate at the first and the last step (default: a
        tenth of the first).
    rng : int or numpy.random.Generator
        Order of the batches.

    Returns
    -------
    dict
        ``{"loss", "distortion", "rate"}``: each the mean over the last
        tenth of the steps (MSE on the 0-255 scale, bits per pixel).

    Examples
    --------
    >>> codec = build_codec(block_size=4, kernel_size=8, num_filters=4, hyper_filters=4, seed=0)
    >>> patches = np.full((8, 16, 16, 1), 0.5, "float32")
    >>> log = train_codec(codec, patches, rate_weight=10.0, steps=2, batch_size=4)
    >>> sorted(log)
    ['distortion', 'loss', 'rate']
    """
    patches = _check_patches(model, patches)
    steps = _validation.check_int("steps", steps, minimum=1)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    rate_weight = _validation.check_float("rate_weight", rate_weight, minimum=0.0)
    learning_rate = _validation.check_float("learning_rate", learning_rate)
    final = learning_rate / 10 if final_learning_rate is None else final_learning_rate
    final = _validation.check_float("final_learning_rate", final)
    if learning_rate <= 0 or final <= 0 or final > learning_rate:
        raise ValueError(
            "`learning_rate` must be > 0 and `final_learning_rate` in (0, learning_rate]; "
            f"received {learning_rate} and {final_learning_rate}."
        )
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=final / learning_rate)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss={"image": distortion_loss, "rate": rate_loss},
        loss_weights={"image": 1.0, "rate": rate_weight},
    )
    rng = _validation.as_rng("rng", rng)
    logs = []
    zeros = np.zeros(batch_size, dtype="float32")
    for _ in range(steps):
        batch = patches[rng.integers(0, len(patches), size=batch_size)]
        out = model.train_on_batch(batch, {"image": batch, "rate": zeros}, return_dict=True)
        logs.append((out["loss"], out["image_loss"], out["rate_loss"]))
    tail = np.asarray(logs[-max(1, steps // 10) :], dtype=np.float64).mean(axis=0)
    return {"loss": float(tail[0]), "distortion": float(tail[1]), "rate": float(tail[2])}


def rescale_codec(model, factor):
    """Change the quantisation step of a codec by ``1 / factor`` and nothing else, in place.

    Multiplies both gains by ``factor`` (so the latents grow by ``factor``
    and the rounding step, in the transform's units, shrinks by it), and
    adjusts the hyperprior so that it predicts the same distributions for
    the grown latents: ``h_a``'s first kernel is divided by ``factor`` (its
    input grew), the predicted means are multiplied by it and the predicted
    log-scales shifted by ``log(factor)``.  Use it to move a trained codec
    to another ``rate_weight`` (``factor = initial_gain(new) / initial_gain(old)``)
    before fine-tuning it there.

    Examples
    --------
    >>> codec = build_codec(block_size=4, kernel_size=8, num_filters=4, hyper_filters=4, seed=0)
    >>> x = np.random.default_rng(0).random((1, 16, 16, 1)).astype("float32")
    >>> before = keras.ops.convert_to_numpy(codec.get_layer("analysis")(x))
    >>> rescale_codec(codec, 2.0)
    >>> after = keras.ops.convert_to_numpy(codec.get_layer("analysis")(x))
    >>> bool(np.allclose(after, 2 * before, rtol=1e-5))
    True
    """
    factor = _validation.check_float("factor", factor)
    if factor <= 0:
        raise ValueError(f"`factor` must be > 0; received {factor}.")
    shift = float(np.log(factor))
    for layer in (model.get_layer("analysis").get_layer("gain"), model.get_layer("synthesis").get_layer("inverse_gain")):
        (log_gain,) = layer.get_weights()
        layer.set_weights([log_gain + shift])
    first = model.get_layer("hyper_analysis").get_layer("h_a1")
    kernel, bias = first.get_weights()
    first.set_weights([kernel / factor, bias])
    head = model.get_layer("hyper_synthesis").get_layer("h_s3")
    kernel, bias = head.get_weights()
    channels = bias.size // 2
    kernel, bias = kernel.copy(), bias.copy()
    kernel[..., :channels] *= factor
    bias[:channels] *= factor
    bias[channels:] += shift
    head.set_weights([kernel, bias])


class CodecTables(typing.NamedTuple):
    """The coding tables of a codec (:func:`codec_tables`), shared by encoder and decoder."""

    #: One row per channel of ``z`` (:func:`cnn_tutor.models.entropy.factorized_tables`).
    side: entropy_models.CodingTables
    #: One row per scale of :data:`cnn_tutor.models.entropy.SCALE_TABLE` (:func:`~cnn_tutor.models.entropy.gaussian_tables`).
    latent: entropy_models.CodingTables


def codec_tables(model, *, precision=coding.PRECISION):
    """Integer tables of a trained codec's two entropy models.

    Examples
    --------
    >>> codec = build_codec(block_size=4, kernel_size=8, num_filters=4, hyper_filters=4, hyper_channels=3, seed=0)
    >>> tables = codec_tables(codec)
    >>> tables.side.freqs.shape[0], tables.latent.freqs.shape[0]
    (3, 64)
    """
    side = entropy_models.factorized_tables(model.get_layer("side_entropy"), precision=precision)
    distribution = model.get_layer("latent_entropy").distribution
    return CodecTables(side=side, latent=entropy_models.gaussian_tables(distribution=distribution, precision=precision))


def _pad(image, multiple):
    height, width = image.shape[:2]
    return np.pad(image, ((0, (-height) % multiple), (0, (-width) % multiple), (0, 0)), mode="edge")


def _means_and_rows(model, z_hat):
    parameters = model.get_layer("hyper_synthesis")(z_hat[None].astype("float32"), training=False)
    means, scales = entropy_models.GaussianConditional.split(parameters)
    means, scales = ops.convert_to_numpy(means)[0], ops.convert_to_numpy(scales)[0]
    return means, entropy_models.scale_indices(scales)


def _encode_image(model, tables, image):
    """The integers a file holds: ``z`` (with its table rows) and the residuals of ``y`` (with theirs)."""
    padded = _pad(image, _HYPER_FACTOR * _block_size(model))[None]
    y = ops.convert_to_numpy(model.get_layer("analysis")(padded, training=False))[0]
    z_hat = np.round(ops.convert_to_numpy(model.get_layer("hyper_analysis")(y[None], training=False))[0])
    z_rows = np.broadcast_to(np.arange(z_hat.shape[-1]), z_hat.shape).reshape(-1)
    means, y_rows = _means_and_rows(model, z_hat)
    residuals = np.round(y - means).astype(np.int64).reshape(-1)
    return z_hat.astype(np.int64).reshape(-1), z_rows, residuals, y_rows.reshape(-1)


def compress(model, images, *, tables=None, model_index=0):
    """Encode each image into a real byte string.

    The file is an 8-byte header (height, width, ``model_index``, the length
    of the side-information stream), the side information ``z`` coded under
    the factorised model, and the latents ``y`` coded under the Gaussians
    that ``h_s(z_hat)`` predicts (their residuals ``round(y - mu)``, each
    with the table of its scale).

    Parameters
    ----------
    model : keras.Model
        A trained codec (:func:`build_codec`).
    images : array_like
        ``(batch, height, width, 1)`` in [0, 1]; any size up to 65535 pixels
        a side (padded by repeating the edge; the decoder crops).
    tables : CodecTables, optional
        From :func:`codec_tables` (computed when not given).
    model_index : int
        A byte stored in the header to say which codec (of a rate sweep)
        wrote the file.

    Returns
    -------
    list of bytes
        One file per image; ``len(file)`` is what it costs.

    Examples
    --------
    >>> codec = build_codec(block_size=4, kernel_size=8, num_filters=4, hyper_filters=4, seed=0)
    >>> files = compress(codec, np.full((1, 6, 10, 1), 0.5, "float32"), model_index=3)
    >>> files[0][:5].hex()
    '0006000a03'
    >>> decompress(codec, files[0]).shape
    (6, 10, 1)
    """
    images = _validation.check_images("images", images, channels=1)
    model_index = _validation.check_int("model_index", model_index, minimum=0)
    if model_index > 255:
        raise ValueError(f"`model_index` must fit in one byte (0-255); received {model_index}.")
    if max(images.shape[1:3]) > 65535:
        raise ValueError(f"`images` must be at most 65535 pixels a side; received shape {images.shape}.")
    tables = codec_tables(model) if tables is None else tables
    files = []
    for image in images:
        z_values, z_rows, residuals, y_rows = _encode_image(model, tables, image)
        side = coding.encode_values(z_values, tables.side.freqs, tables.side.offsets, z_rows,
                                    precision=tables.side.precision)
        main = coding.encode_values(residuals, tables.latent.freqs, tables.latent.offsets, y_rows,
                                    precision=tables.latent.precision)
        if len(side) >= 1 << 24:
            raise ValueError("the side information of this image exceeds 16 MiB; the image is too large.")
        header = b"".join(
            [image.shape[0].to_bytes(2, "big"), image.shape[1].to_bytes(2, "big"), bytes([model_index]),
             len(side).to_bytes(3, "big")]
        )
        files.append(header + side + main)
    return files


def _read_header(data):
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"`data` must be bytes (one file from compress); received {type(data).__name__}.")
    if len(data) < HEADER_BYTES:
        raise ValueError(f"`data` must start with an {HEADER_BYTES}-byte header; received {len(data)} bytes.")
    height, width = int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big")
    side_length = int.from_bytes(data[5:8], "big")
    if HEADER_BYTES + side_length > len(data):
        raise ValueError("`data` is truncated: it is shorter than its header says.")
    return height, width, data[4], side_length


def decompress(model, data, *, tables=None):
    """Decode one file of :func:`compress` into an image ``(height, width, 1)``, 8-bit values in [0, 1].

    The latents are decoded exactly as the encoder quantised them (the coder
    is lossless); the synthesis transform maps them to pixels, which are
    clipped to [0, 1] and rounded to 8 bits, as an image file stores them.

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not bytes, is shorter than its header says, or does
        not decode with these tables.
    """
    height, width, _, side_length = _read_header(data)
    tables = codec_tables(model) if tables is None else tables
    multiple = _HYPER_FACTOR * _block_size(model)
    block = _block_size(model)
    padded_h, padded_w = -(-height // multiple) * multiple, -(-width // multiple) * multiple
    channels = model.get_layer("synthesis").inputs[0].shape[-1]
    z_channels = model.get_layer("side_entropy").channels
    z_shape = (padded_h // multiple, padded_w // multiple, z_channels)
    z_rows = np.broadcast_to(np.arange(z_channels), z_shape).reshape(-1)
    side = bytes(data[HEADER_BYTES : HEADER_BYTES + side_length])
    z_values = coding.decode_values(side, tables.side.freqs, tables.side.offsets, z_rows,
                                    precision=tables.side.precision)
    z_hat = z_values.reshape(z_shape).astype("float32")
    means, y_rows = _means_and_rows(model, z_hat)
    y_shape = (padded_h // block, padded_w // block, channels)
    y_rows = y_rows.reshape(-1)
    main = bytes(data[HEADER_BYTES + side_length :])
    residuals = coding.decode_values(main, tables.latent.freqs, tables.latent.offsets, y_rows,
                                     precision=tables.latent.precision)
    y_hat = (means + residuals.reshape(y_shape)).astype("float32")
    image = ops.convert_to_numpy(model.get_layer("synthesis")(y_hat[None], training=False))[0]
    return (np.round(np.clip(image[:height, :width], 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def estimate_bits(model, images, *, tables=None):
    """Per image: the code length the models promise, in bits, before any byte is written.

    Returns
    -------
    numpy.ndarray
        float64 ``(batch, 2)``: column 0 is ``-sum log2 p`` of ``z`` and ``y``
        under the entropy models at test time (the quantity training
        minimises, with rounding instead of noise); column 1 the ideal
        length under the integer tables (:func:`cnn_tutor.coding.ideal_bits`,
        with the scales rounded to the table's), which the coder's output
        exceeds by a few bytes.
    """
    images = _validation.check_images("images", images, channels=1)
    tables = codec_tables(model) if tables is None else tables
    multiple = _HYPER_FACTOR * _block_size(model)
    out = np.empty((len(images), 2))
    for index, image in enumerate(images):
        padded = _pad(image, multiple)[None]
        result = model(padded, training=False)
        pixels = padded.shape[1] * padded.shape[2]
        out[index, 0] = float(ops.convert_to_numpy(result["rate"])[0]) * pixels
        z_values, z_rows, residuals, y_rows = _encode_image(model, tables, image)
        out[index, 1] = coding.ideal_value_bits(
            z_values, tables.side.freqs, tables.side.offsets, z_rows, precision=tables.side.precision
        ) + coding.ideal_value_bits(
            residuals, tables.latent.freqs, tables.latent.offsets, y_rows, precision=tables.latent.precision
        )
    return out
