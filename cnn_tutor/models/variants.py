"""One-idea convolution blocks to count and time: 3x3, 5x5, two stacked 3x3, depthwise-separable.

:func:`build_conv_variant` builds the block named by a key of
:data:`cnn_tutor.cost.VARIANTS` as a Keras model with a fixed input shape,
so its parameters and multiply-adds can be counted
(:func:`cnn_tutor.cost.count_macs`) against the formula
(:func:`cnn_tutor.cost.variant_cost`), and its speed measured
(:func:`cnn_tutor.timing.compare_timings`).

Used by the Future directions chapter.
"""

import keras

from cnn_tutor import _validation, cost
from cnn_tutor.models._common import seed_weights

__all__ = ["build_conv_variant"]


def build_conv_variant(variant, input_shape=(28, 28, 64), filters=64, *, use_bias=False, seed=None):
    """A Keras model made of one of the :data:`cnn_tutor.cost.VARIANTS` blocks, for counting and timing.

    Parameters
    ----------
    variant : str
        A key of :data:`cnn_tutor.cost.VARIANTS`.
    input_shape : (int, int, int)
        ``(height, width, channels)``; fixed, so the model has known output
        shapes (:func:`cnn_tutor.cost.count_macs` needs them).
    filters : int
        Output channels.
    use_bias : bool
        Give the convolutions biases.  Off by default: in practice a batch
        normalisation follows, which makes a bias redundant, and without it
        :func:`cnn_tutor.cost.profile_flops` is exactly twice
        :func:`cnn_tutor.cost.count_macs`.
    seed : int, optional
        Seed of the initial weights (``None``: the runtime's seed).

    Returns
    -------
    keras.Model
        ``(batch, *input_shape)`` -> ``(batch, height, width, filters)``.

    Examples
    --------
    >>> model = build_conv_variant("separable3x3", (8, 8, 4), 6)
    >>> model.output_shape, model.count_params() == cost.variant_cost("separable3x3", (8, 8, 4), 6).parameters
    ((None, 8, 8, 6), True)
    """
    _validation.check_choice("variant", variant, tuple(cost.VARIANTS))
    input_shape = _validation.check_shape3("input_shape", input_shape, example=(28, 28, 64))
    filters = _validation.check_int("filters", filters, minimum=1)
    seed_weights(seed)
    inputs = keras.Input(shape=input_shape, name="features")
    if variant.startswith("separable"):
        kernel_size = int(variant[-1])
        x = keras.layers.SeparableConv2D(filters, kernel_size, padding="same", use_bias=use_bias, name="separable")(inputs)
    elif variant == "stacked3x3":
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", use_bias=use_bias, name="conv3x3_a")(inputs)
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name="conv3x3_b")(x)
    else:
        kernel_size = int(variant[-1])
        x = keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=use_bias, name=variant)(inputs)
    return keras.Model(inputs, x, name=variant)
