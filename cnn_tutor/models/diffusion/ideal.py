"""The ideal denoiser of a finite set of images: what a network trained on them would converge to.

For data that is a finite set of images ``x_1..x_N`` (the training set), the
best estimate (in squared error) of the clean image behind a noisy
``x_t = a x + s eps`` has a closed form, a softmax-weighted average of the
training images:

``E[x | x_t] = sum_i w_i x_i``,  ``w_i ∝ exp(-|x_t - a x_i|^2 / (2 s^2))``.

:func:`build_ideal_denoiser` wraps it as a Keras model with the inputs and
output of :func:`build_denoising_unet` (the velocity for a flow, the noise for
a diffusion), so the same samplers run it.  At pure noise (``a = 0``) every
weight is equal and the estimate is the *mean* training image, a blur; along
a schedule of noise levels the weights sharpen, and sampling ends on one of
the training images: the ideal denoiser of the training set only copies.  A
network generalises because it cannot represent this function exactly.
"""

import keras
import numpy as np

from cnn_tutor import _validation
from cnn_tutor.models.diffusion import _common
from cnn_tutor.models.diffusion.processes import GaussianDiffusion, RectifiedFlow

__all__ = ["IdealDenoiser", "build_ideal_denoiser"]


@keras.saving.register_keras_serializable(package="cnn_tutor")
class IdealDenoiser(keras.layers.Layer):
    """``[noisy, time] -> prediction`` of the exact posterior mean over ``images``.

    Parameters
    ----------
    images : array_like
        ``(n, height, width, channels)`` in [-1, 1] (the model's range).
    kind : {"flow", "diffusion"}
        Output a flow's velocity or a diffusion's noise.
    alpha_bars : array_like, optional
        The diffusion's ``abar_k``, ``k = 0..T`` (``kind="diffusion"``).
    """

    def __init__(self, images, kind="flow", alpha_bars=None, **kwargs):
        super().__init__(**kwargs)
        images = np.asarray(images, dtype=np.float32)
        self.kind = _validation.check_choice("kind", kind, ("flow", "diffusion"))
        self._shape = tuple(int(d) for d in images.shape[1:])
        self._data = images.reshape(len(images), -1)
        self._alpha_bars = None if alpha_bars is None else np.asarray(alpha_bars, dtype=np.float32)
        if self.kind == "diffusion" and self._alpha_bars is None:
            raise ValueError("`alpha_bars` is required for kind='diffusion'.")

    def _levels(self, t):
        if self.kind == "flow":
            return 1.0 - t, t
        steps = len(self._alpha_bars) - 1
        k = keras.ops.cast(keras.ops.round(t * steps), "int32")
        abar = keras.ops.take(keras.ops.convert_to_tensor(self._alpha_bars), k)
        return keras.ops.sqrt(abar), keras.ops.sqrt(1.0 - abar)

    def clean_estimate(self, noisy, t):
        """``E[x | x_t]`` for a batch, ``(batch, height, width, channels)``."""
        data = keras.ops.convert_to_tensor(self._data)
        flat = keras.ops.reshape(noisy, (keras.ops.shape(noisy)[0], -1))
        signal, sigma = self._levels(keras.ops.reshape(keras.ops.cast(t, "float32"), (-1, 1)))
        sigma = keras.ops.maximum(sigma, 1e-4)
        squared = (
            keras.ops.sum(flat**2, axis=1, keepdims=True)
            - 2.0 * signal * keras.ops.matmul(flat, keras.ops.transpose(data))
            + signal**2 * keras.ops.sum(data**2, axis=1)[None, :]
        )
        weights = keras.ops.softmax(-squared / (2.0 * sigma**2), axis=-1)
        return keras.ops.reshape(keras.ops.matmul(weights, data), (-1, *self._shape))

    def call(self, inputs):
        noisy, t = inputs[0], inputs[1]
        x0 = self.clean_estimate(noisy, t)
        t4 = keras.ops.reshape(keras.ops.cast(t, "float32"), (-1, 1, 1, 1))
        signal, sigma = self._levels(t4)
        sigma = keras.ops.maximum(sigma, 1e-4)
        if self.kind == "flow":
            return (noisy - x0) / sigma  # the velocity (x_t - x) / t
        return (noisy - signal * x0) / sigma  # the noise

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def get_config(self):
        return {
            **super().get_config(),
            "images": self._data.reshape(-1, *self._shape).tolist(),
            "kind": self.kind,
            "alpha_bars": None if self._alpha_bars is None else self._alpha_bars.tolist(),
        }


def build_ideal_denoiser(images, process, *, name="ideal_denoiser"):
    """The exact denoiser of the set ``images``, as a model that :func:`sample` can run.

    Parameters
    ----------
    images : array_like
        ``(n, height, width, channels)`` in [0, 1]: the "training set".
    process : RectifiedFlow or GaussianDiffusion
        Which prediction to output: the velocity or the noise.
    name : str
        The model's name.

    Returns
    -------
    keras.Model
        Inputs ``[noisy, time]``, output the prediction (no weights to train).

    Examples
    --------
    With two images, a noisy copy of the second one is denoised to it:

    >>> images = np.stack([np.zeros((2, 2, 1)), np.ones((2, 2, 1))]).astype("float32")
    >>> ideal = build_ideal_denoiser(images, RectifiedFlow())
    >>> layer = ideal.get_layer("posterior_mean")
    >>> noisy = np.full((1, 2, 2, 1), 0.9, "float32")  # near +1, the second image in [-1, 1]
    >>> np.round(np.asarray(layer.clean_estimate(noisy, np.array([0.1], "float32"))).ravel(), 3)
    array([1., 1., 1., 1.], dtype=float32)
    """
    images = _validation.check_images("images", images)
    if len(images) == 0:
        raise ValueError("`images` must hold at least one image; received an empty batch.")
    if isinstance(process, RectifiedFlow):
        layer = IdealDenoiser(_common.to_model_range(images), "flow", name="posterior_mean")
    elif isinstance(process, GaussianDiffusion):
        layer = IdealDenoiser(_common.to_model_range(images), "diffusion", process.alpha_bars, name="posterior_mean")
    else:
        raise TypeError(f"`process` must be a RectifiedFlow or a GaussianDiffusion; received {process!r}.")
    noisy = keras.Input(shape=images.shape[1:], name="noisy")
    time = keras.Input(shape=(), name="time")
    return keras.Model([noisy, time], layer([noisy, time]), name=name)
