"""What a convolution costs: parameters and multiply-adds, by formula and counted from a model.

The source article says that to cut compute one should use "smaller filters,
fewer layers, simpler models" (claim 13).  This module makes the cost of a
convolution layer something to count, next to the shape arithmetic of
:mod:`cnn_tutor.shapes` that it builds on:

- formulas: :func:`conv_cost` (a standard convolution),
  :func:`depthwise_cost` (each channel filtered on its own) and
  :func:`separable_cost` (depthwise, then a 1x1 "pointwise" convolution, as
  in MobileNets and Xception); they return a :class:`ConvCost` of parameters
  and multiply-accumulate operations (MACs), and costs add up, so a stack of
  layers is the sum of its layers;
- :data:`VARIANTS`, one-idea blocks that map a feature map to another of the
  same size (3x3, 5x5, two stacked 3x3, depthwise-separable 3x3 and 5x5),
  and their formula :func:`variant_cost` (the models are
  :func:`cnn_tutor.models.variants.build_conv_variant`);
- counts from a built Keras model: :func:`count_macs` reads the kernels and
  output shapes of its layers (any backend); :func:`profile_flops` asks
  TensorFlow's graph profiler (an independent count: 2 floating-point
  operations per MAC, plus one per bias addition; a TensorFlow lesson).

Used by the Keras models, FAQ and Future directions chapters.
"""

import dataclasses

import numpy as np

from cnn_tutor import _backend, _validation, shapes

__all__ = [
    "VARIANTS",
    "ConvCost",
    "conv_cost",
    "count_macs",
    "depthwise_cost",
    "profile_flops",
    "separable_cost",
    "variant_cost",
]

#: The blocks of :func:`cnn_tutor.models.variants.build_conv_variant`: name -> description.  Each maps
#: ``(height, width, channels)`` to ``(height, width, filters)`` ("same"
#: padding, stride 1).
VARIANTS = {
    "conv3x3": "one standard 3x3 convolution",
    "conv5x5": "one standard 5x5 convolution",
    "stacked3x3": "two standard 3x3 convolutions (ReLU between): a 5x5 receptive field",
    "separable3x3": "depthwise 3x3, then pointwise 1x1 (keras.layers.SeparableConv2D)",
    "separable5x5": "depthwise 5x5, then pointwise 1x1 (keras.layers.SeparableConv2D)",
}


@dataclasses.dataclass(frozen=True)
class ConvCost:
    """Parameters and multiply-accumulate operations (MACs) per image of one or more layers.

    Costs add up: ``conv_cost(...) + conv_cost(...)`` is the cost of the two
    layers one after the other.

    Examples
    --------
    >>> ConvCost(10, 100) + ConvCost(1, 5)
    ConvCost(parameters=11, macs=105)
    """

    #: Trainable numbers (weights and biases).
    parameters: int
    #: Multiply-accumulate operations for one image (a MAC is one multiplication and one addition).
    macs: int

    def __add__(self, other):
        if not isinstance(other, ConvCost):
            return NotImplemented
        return ConvCost(self.parameters + other.parameters, self.macs + other.macs)


def _output_hw(height, width, kernel_size, strides, padding):
    height = _validation.check_int("height", height, minimum=1)
    width = _validation.check_int("width", width, minimum=1)
    kernel_size = _validation.check_int("kernel_size", kernel_size, minimum=1)
    strides = _validation.check_int("strides", strides, minimum=1)
    _validation.check_choice("padding", padding, ("valid", "same"))
    return (
        shapes.conv_output_size(height, kernel_size, stride=strides, padding=padding),
        shapes.conv_output_size(width, kernel_size, stride=strides, padding=padding),
    )


def conv_cost(height, width, in_channels, out_channels, kernel_size, *, strides=1, padding="same", bias=True):
    """Cost of a standard convolution (``keras.layers.Conv2D``) on one image.

    Every output value is a sum over a ``k x k x C_in`` window, so

    .. math:: \\text{params} = k^2 C_\\text{in} C_\\text{out} \\;(+\\, C_\\text{out}), \\qquad
       \\text{MACs} = H_\\text{out} W_\\text{out}\\, k^2 C_\\text{in} C_\\text{out}.

    Parameters
    ----------
    height, width : int
        Size of the input feature map.
    in_channels, out_channels : int
        Channels in and out (``C_in``, ``C_out``; ``C_out`` is Keras's ``filters``).
    kernel_size : int
        Square kernel size ``k``.
    strides : int
        Stride in both directions.
    padding : {"same", "valid"}
        As in Keras; sets the output size (:func:`cnn_tutor.shapes.conv_output_size`).
    bias : bool
        Count one bias per output channel (Keras's ``use_bias``).

    Returns
    -------
    ConvCost

    Raises
    ------
    TypeError, ValueError
        If a size is not an integer >= 1, or the kernel does not fit.

    Examples
    --------
    >>> conv_cost(28, 28, 64, 64, 3, bias=False)        # 3*3*64*64, 28*28 times
    ConvCost(parameters=36864, macs=28901376)
    >>> conv_cost(28, 28, 1, 32, 3, padding="valid")     # the article's first layer: 26*26 outputs
    ConvCost(parameters=320, macs=194688)
    """
    out_h, out_w = _output_hw(height, width, kernel_size, strides, padding)
    in_channels = _validation.check_int("in_channels", in_channels, minimum=1)
    out_channels = _validation.check_int("out_channels", out_channels, minimum=1)
    weights = kernel_size * kernel_size * in_channels * out_channels
    return ConvCost(weights + (out_channels if bias else 0), out_h * out_w * weights)


def depthwise_cost(height, width, channels, kernel_size, *, depth_multiplier=1, strides=1, padding="same", bias=True):
    """Cost of a depthwise convolution (``keras.layers.DepthwiseConv2D``): each channel on its own.

    Each of the ``C`` input channels gets ``m`` (``depth_multiplier``) filters
    of size ``k x k`` and no sum runs over channels:

    .. math:: \\text{params} = k^2 C m \\;(+\\, C m), \\qquad \\text{MACs} = H_\\text{out} W_\\text{out}\\, k^2 C m.

    Parameters
    ----------
    height, width : int
        Size of the input feature map.
    channels : int
        Input channels ``C``.
    kernel_size : int
        Square kernel size ``k``.
    depth_multiplier : int
        Filters per input channel ``m``; the output has ``C m`` channels.
    strides, padding, bias
        As in :func:`conv_cost`.

    Returns
    -------
    ConvCost

    Examples
    --------
    >>> depthwise_cost(28, 28, 64, 3, bias=False)
    ConvCost(parameters=576, macs=451584)
    """
    out_h, out_w = _output_hw(height, width, kernel_size, strides, padding)
    channels = _validation.check_int("channels", channels, minimum=1)
    depth_multiplier = _validation.check_int("depth_multiplier", depth_multiplier, minimum=1)
    weights = kernel_size * kernel_size * channels * depth_multiplier
    return ConvCost(weights + (channels * depth_multiplier if bias else 0), out_h * out_w * weights)


def separable_cost(
    height, width, in_channels, out_channels, kernel_size, *, depth_multiplier=1, strides=1, padding="same", bias=True
):
    """Cost of a depthwise-separable convolution (``keras.layers.SeparableConv2D``).

    A depthwise ``k x k`` convolution filters each channel on its own, then a
    pointwise ``1 x 1`` convolution mixes the ``C_in m`` channels into
    ``C_out``.  Keras's layer has one bias, on the pointwise output:

    .. math:: \\text{params} = k^2 C_\\text{in} m + C_\\text{in} m\\, C_\\text{out} \\;(+\\, C_\\text{out}),
       \\qquad \\text{MACs} = H_\\text{out} W_\\text{out} (k^2 C_\\text{in} m + C_\\text{in} m\\, C_\\text{out}).

    Against a standard convolution the MACs shrink by the factor
    ``1 / C_out + 1 / k^2`` (for ``m = 1``), as in Howard et al. (2017).

    Parameters
    ----------
    height, width, in_channels, out_channels, kernel_size, strides, padding, bias
        As in :func:`conv_cost`.
    depth_multiplier : int
        Depthwise filters per input channel ``m``.

    Returns
    -------
    ConvCost

    Examples
    --------
    >>> separable_cost(28, 28, 64, 64, 3, bias=False)
    ConvCost(parameters=4672, macs=3662848)
    >>> cost = separable_cost(28, 28, 64, 64, 3, bias=False)
    >>> round(cost.macs / conv_cost(28, 28, 64, 64, 3, bias=False).macs, 4), round(1 / 64 + 1 / 9, 4)
    (0.1267, 0.1267)
    """
    depthwise = depthwise_cost(
        height, width, in_channels, kernel_size, depth_multiplier=depth_multiplier,
        strides=strides, padding=padding, bias=False,
    )
    out_h, out_w = _output_hw(height, width, kernel_size, strides, padding)
    pointwise = conv_cost(out_h, out_w, in_channels * depth_multiplier, out_channels, 1, bias=bias)
    return depthwise + pointwise


def _check_variant(variant):
    return _validation.check_choice("variant", variant, tuple(VARIANTS))


def variant_cost(variant, input_shape=(28, 28, 64), filters=64, *, bias=False):
    """The formula cost of one of the :data:`VARIANTS` ("same" padding, stride 1).

    Parameters
    ----------
    variant : str
        A key of :data:`VARIANTS`.
    input_shape : (int, int, int)
        ``(height, width, channels)`` of the input feature map.
    filters : int
        Output channels.
    bias : bool
        Count biases (as ``use_bias`` in
        :func:`cnn_tutor.models.variants.build_conv_variant`).

    Returns
    -------
    ConvCost

    Examples
    --------
    >>> variant_cost("stacked3x3").parameters, variant_cost("conv5x5").parameters   # 18/25 of a 5x5
    (73728, 102400)
    >>> variant_cost("conv7x7")
    Traceback (most recent call last):
    ...
    ValueError: `variant` must be one of 'conv3x3', 'conv5x5', 'stacked3x3', 'separable3x3', 'separable5x5'; received 'conv7x7'.
    """
    _check_variant(variant)
    height, width, channels = _validation.check_shape3("input_shape", input_shape, example=(28, 28, 64))
    filters = _validation.check_int("filters", filters, minimum=1)
    if variant == "conv3x3":
        return conv_cost(height, width, channels, filters, 3, bias=bias)
    if variant == "conv5x5":
        return conv_cost(height, width, channels, filters, 5, bias=bias)
    if variant == "stacked3x3":
        return conv_cost(height, width, channels, filters, 3, bias=bias) + conv_cost(
            height, width, filters, filters, 3, bias=bias
        )
    kernel_size = 3 if variant == "separable3x3" else 5
    return separable_cost(height, width, channels, filters, kernel_size, bias=bias)


def _layers(model):
    """The layers of ``model``, with nested models opened up."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def _fixed(shape, layer, model):
    dims = tuple(shape[1:-1])
    if any(d is None for d in dims):
        raise ValueError(
            f"Layer {layer.name!r} of model {model.name!r} has spatial shape {tuple(shape)} with unknown "
            "sizes, so its multiply-adds depend on the image size. Give the size to count for, for "
            "example `input_shape=(28, 28, 1)`."
        )
    return int(np.prod(dims, dtype=np.int64))


def _on_input_shape(model, input_shape):
    """``model`` itself, or a copy of it (same weights) built on ``keras.Input(shape=input_shape)``."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model; received {type(model).__name__}.")
    if input_shape is None:
        return model
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise ValueError(f"`input_shape` must be a tuple such as (28, 28, 1); received {input_shape!r}.")
    input_shape = tuple(_validation.check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(input_shape))
    try:
        return keras.models.clone_model(model, input_tensors=keras.Input(shape=input_shape))
    except ValueError as error:
        raise ValueError(
            f"`model` {model.name!r} could not be rebuilt on `input_shape` {input_shape}: {error}"
        ) from error


def count_macs(model, *, input_shape=None):
    """Multiply-accumulate operations per image, counted from the layers of a built Keras model.

    The count reads each layer's kernel shape and its input or output shape,
    not the formulas above, so it checks them:

    - ``Conv2D``: output positions x kernel size ``k_h k_w C_in C_out``;
    - ``DepthwiseConv2D``: output positions x ``k_h k_w C m``;
    - ``SeparableConv2D``: output positions x (depthwise kernel size +
      pointwise kernel size);
    - ``Conv2DTranspose``: *input* positions x kernel size (each input value
      is spread over a ``k_h x k_w x C_out`` patch);
    - ``Dense``: kernel size, times the positions it is applied at.

    Biases, activations, pooling and normalisation are not counted (they are
    a small share of the work and are not multiply-adds of weights).  Nested
    models are opened up.

    Parameters
    ----------
    model : keras.Model
        A built model.
    input_shape : tuple of int, optional
        ``(height, width, channels)`` to count for, for a fully
        convolutional model built on ``(None, None, channels)`` input: the
        count is made on a copy of the model built on that shape
        (``keras.models.clone_model``; functional and sequential models).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If a convolution's spatial size is unknown and ``input_shape`` is not
        given.

    Examples
    --------
    >>> from cnn_tutor.models import variants
    >>> count_macs(variants.build_conv_variant("conv3x3", (28, 28, 64), 64)) == conv_cost(28, 28, 64, 64, 3).macs
    True
    >>> count_macs(variants.build_conv_variant("separable5x5", (8, 8, 4), 6)) == separable_cost(8, 8, 4, 6, 5).macs
    True
    """
    import keras

    model = _on_input_shape(model, input_shape)
    total = 0
    for layer in _layers(model):
        if isinstance(layer, keras.layers.SeparableConv2D):
            per_position = int(np.prod(layer.depthwise_kernel.shape)) + int(np.prod(layer.pointwise_kernel.shape))
            total += _fixed(layer.output.shape, layer, model) * per_position
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            total += _fixed(layer.output.shape, layer, model) * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            total += _fixed(layer.input.shape, layer, model) * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Dense):
            positions = int(np.prod(layer.output.shape[1:-1], dtype=np.int64)) if len(layer.output.shape) > 2 else 1
            total += positions * int(np.prod(layer.kernel.shape))
    return total


def profile_flops(model, *, input_shape=None):
    """Floating-point operations of one forward pass on one image, counted by TensorFlow's profiler.

    The model is traced into a graph for a batch of one, its variables are
    frozen into constants, and the TensorFlow graph profiler adds up the
    registered cost of every op: 2 per multiply-accumulate of a convolution or
    matrix product, 1 per bias addition.  This count knows nothing of the
    formulas or of :func:`count_macs`, which makes it a check on both.  It
    uses TensorFlow's ``tensorflow.python.profiler`` module (the graph
    profiler of TensorFlow 1, still shipped).

    Parameters
    ----------
    model : keras.Model
        A model with a single input.
    input_shape : tuple of int, optional
        The shape of one image, for a model built on unknown sizes (as in
        :func:`count_macs`).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the input shape has unknown sizes and ``input_shape`` is not given.
    RuntimeError
        Under a Keras backend other than TensorFlow (a TensorFlow lesson).

    Examples
    --------
    >>> from cnn_tutor.models import variants
    >>> model = variants.build_conv_variant("conv3x3", (8, 8, 4), 6)
    >>> profile_flops(model) == 2 * count_macs(model)
    True
    """
    _backend.require_tensorflow("profile_flops (TensorFlow's graph profiler)")
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    from tensorflow.python.profiler import model_analyzer, option_builder

    model = _on_input_shape(model, input_shape)
    shape = tuple(model.input_shape[1:])
    if any(d is None for d in shape):
        raise ValueError(
            f"`model` must have a fixed input shape to be profiled; received {model.input_shape}. "
            "Give the shape of one image, for example `input_shape=(28, 28, 1)`."
        )
    function = tf.function(lambda images: model(images, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec((1, *shape), model.inputs[0].dtype))
    graph = convert_variables_to_constants_v2(concrete).graph
    options = option_builder.ProfileOptionBuilder(
        option_builder.ProfileOptionBuilder.float_operation()
    ).with_empty_output().build()
    return int(model_analyzer.profile(graph, options=options).total_float_ops)
