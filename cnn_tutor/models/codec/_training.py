"""Training a codec: entropy models set up from its latents, the rate-distortion loop, rescaling.

Private: the public names are re-exported by :mod:`cnn_tutor.models.codec`.
"""

import keras
import numpy as np
from keras import ops

from cnn_tutor import _validation
from cnn_tutor.models import entropy as entropy_models
from cnn_tutor.models.codec._network import (  # build_codec: for the Examples
    _HYPER_FACTOR,
    _block_size,
    bits_loss,
    build_codec,
    distortion_loss,
    rate_loss,
)


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
