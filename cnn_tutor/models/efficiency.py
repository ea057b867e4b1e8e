"""What a convolution costs: parameters and multiply-adds by formula and from a model, and time.

The source article says that to cut compute one should use "smaller filters,
fewer layers, simpler models" (claim 13).  This module makes the cost of a
convolution layer something to count and to measure:

- formulas: :func:`conv_cost` (a standard convolution),
  :func:`depthwise_cost` (each channel filtered on its own) and
  :func:`separable_cost` (depthwise, then a 1x1 "pointwise" convolution, as
  in MobileNets and Xception); they return a :class:`ConvCost` of parameters
  and multiply-accumulate operations (MACs), and costs add up, so a stack of
  layers is the sum of its layers;
- counts from a built Keras model: :func:`count_macs` reads the kernels and
  output shapes of its layers, :func:`profile_flops` asks TensorFlow's graph
  profiler (an independent count: 2 floating-point operations per MAC, plus
  one per bias addition);
- a set of one-idea blocks that map a feature map to another of the same size
  (:data:`VARIANTS`: 3x3, 5x5, two stacked 3x3, depthwise-separable 3x3 and
  5x5), each with its model (:func:`build_conv_variant`) and its formula
  (:func:`variant_cost`);
- time: :func:`time_per_batch` (median wall-clock time of a function over
  repeats) and :func:`make_train_step` (one optimisation step as a
  ``tf.function``, optionally compiled by XLA).

Used by the Future directions chapter.
"""

import dataclasses
import statistics
import time
import typing

import numpy as np

from cnn_tutor import _validation, shapes

__all__ = [
    "VARIANTS",
    "ConvCost",
    "Timing",
    "build_conv_variant",
    "compare_timings",
    "conv_cost",
    "count_macs",
    "depthwise_cost",
    "make_train_step",
    "profile_flops",
    "separable_cost",
    "time_per_batch",
    "variant_cost",
]

#: The blocks of :func:`build_conv_variant`: name -> description.  Each maps
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


def _check_feature_shape(input_shape):
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(
            f"`input_shape` must be (height, width, channels), for example (28, 28, 64); received {input_shape!r}."
        )
    return tuple(_validation.check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(input_shape))


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
        Count biases (as ``use_bias`` in :func:`build_conv_variant`).

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
    height, width, channels = _check_feature_shape(input_shape)
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


def build_conv_variant(variant, input_shape=(28, 28, 64), filters=64, *, use_bias=False, seed=None):
    """A Keras model made of one of the :data:`VARIANTS` blocks, for counting and timing.

    Parameters
    ----------
    variant : str
        A key of :data:`VARIANTS`.
    input_shape : (int, int, int)
        ``(height, width, channels)``; fixed, so the model has known output
        shapes (:func:`count_macs` needs them).
    filters : int
        Output channels.
    use_bias : bool
        Give the convolutions biases.  Off by default: in practice a batch
        normalisation follows, which makes a bias redundant, and without it
        :func:`profile_flops` is exactly twice :func:`count_macs`.
    seed : int, optional
        Seed Keras before the weights are created.

    Returns
    -------
    keras.Model
        ``(batch, *input_shape)`` -> ``(batch, height, width, filters)``.

    Examples
    --------
    >>> model = build_conv_variant("separable3x3", (8, 8, 4), 6)
    >>> model.output_shape, model.count_params() == variant_cost("separable3x3", (8, 8, 4), 6).parameters
    ((None, 8, 8, 6), True)
    """
    import keras

    _check_variant(variant)
    input_shape = _check_feature_shape(input_shape)
    filters = _validation.check_int("filters", filters, minimum=1)
    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))
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
    >>> count_macs(build_conv_variant("conv3x3", (28, 28, 64), 64)) == conv_cost(28, 28, 64, 64, 3).macs
    True
    >>> count_macs(build_conv_variant("separable5x5", (8, 8, 4), 6)) == separable_cost(8, 8, 4, 6, 5).macs
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

    Examples
    --------
    >>> model = build_conv_variant("conv3x3", (8, 8, 4), 6)
    >>> profile_flops(model) == 2 * count_macs(model)
    True
    """
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


class Timing(typing.NamedTuple):
    """What :func:`time_per_batch` returns (seconds)."""

    #: Median of the timed calls.
    median: float
    #: Every timed call, in order.
    times: tuple


def _wait_for(result):
    """Bring every tensor of ``result`` to the host, so an asynchronous device has finished."""
    import tensorflow as tf

    return tf.nest.map_structure(lambda value: value.numpy() if hasattr(value, "numpy") else value, result)


def time_per_batch(function, *args, repeats=10, warmup=1):
    """Median wall-clock time of ``function(*args)`` over ``repeats`` calls, after ``warmup`` calls.

    The warm-up calls absorb one-off costs (tracing a ``tf.function``, XLA
    compilation, memory allocation).  Each timed call ends with the results
    copied to NumPy, so the time includes the whole computation also on a GPU,
    where TensorFlow returns before the kernels have finished.  The median is
    robust to the occasional slow call when other programs share the CPU.

    Parameters
    ----------
    function : callable
        What to time, for example a ``tf.function`` or ``model.predict_on_batch``.
    *args
        Its arguments (the same for every call).
    repeats : int
        Timed calls (>= 1).
    warmup : int
        Untimed calls first (>= 0).

    Returns
    -------
    Timing
        ``(median, times)`` in seconds.

    Examples
    --------
    >>> timing = time_per_batch(sum, range(1000), repeats=3)
    >>> len(timing.times), timing.median >= 0
    (3, True)
    >>> time_per_batch(sum, range(10), repeats=0)
    Traceback (most recent call last):
    ...
    ValueError: `repeats` must be >= 1; received 0.
    """
    if not callable(function):
        raise TypeError(f"`function` must be callable; received {type(function).__name__}.")
    repeats = _validation.check_int("repeats", repeats, minimum=1)
    warmup = _validation.check_int("warmup", warmup, minimum=0)
    for _ in range(warmup):
        _wait_for(function(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _wait_for(function(*args))
        times.append(time.perf_counter() - start)
    return Timing(median=statistics.median(times), times=tuple(times))


def compare_timings(functions, *args, repeats=10, warmup=1):
    """Time several functions on the same arguments, taking turns: one call of each per round.

    When other programs share the machine, its speed drifts over seconds;
    timing one function after the other would charge the drift to whichever
    ran during a slow spell.  Taking turns spreads it over all of them, so
    their ratios are fairer.  Each gets ``warmup`` untimed calls first, and
    each timed call ends with its results copied to NumPy (see
    :func:`time_per_batch`).

    Parameters
    ----------
    functions : dict of str to callable
        What to time, by name.
    *args
        The arguments of every call.
    repeats : int
        Rounds (>= 1).
    warmup : int
        Untimed calls of each function first (>= 0).

    Returns
    -------
    dict of str to Timing
        The median and every time of each function, in seconds.

    Examples
    --------
    >>> timings = compare_timings({"short": sum, "long": lambda r: sum(list(r) * 50)}, range(1000), repeats=3)
    >>> sorted(timings), len(timings["long"].times)
    (['long', 'short'], 3)
    """
    if not isinstance(functions, dict) or not functions:
        raise ValueError(f"`functions` must be a non-empty dict of name -> callable; received {functions!r}.")
    for name, function in functions.items():
        if not callable(function):
            raise TypeError(f"`functions[{name!r}]` must be callable; received {type(function).__name__}.")
    repeats = _validation.check_int("repeats", repeats, minimum=1)
    warmup = _validation.check_int("warmup", warmup, minimum=0)
    for function in functions.values():
        for _ in range(warmup):
            _wait_for(function(*args))
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            _wait_for(function(*args))
            times[name].append(time.perf_counter() - start)
    return {name: Timing(median=statistics.median(values), times=tuple(values)) for name, values in times.items()}


def make_train_step(model, loss, optimizer="adam", *, jit_compile=False):
    """One optimisation step of ``model`` as a ``tf.function``: ``step(images, targets) -> loss``.

    This is what ``model.fit`` runs for each batch, written out so its speed
    can be measured with and without XLA.  With ``jit_compile=True`` XLA
    compiles the whole step (forward pass, gradients, optimizer update) into
    fused kernels.  Keras's own ``compile(jit_compile=True)`` silently falls
    back to no XLA (with a warning) while TensorFlow's op determinism is on,
    as it is after :func:`cnn_tutor.setup`; this step does not, and the first
    call raises ``UnimplementedError`` if an op of the model has no
    deterministic XLA version (max pooling's gradient is one).

    Under the ``mixed_float16`` dtype policy the optimizer is wrapped in
    ``keras.optimizers.LossScaleOptimizer``, as ``Model.compile`` does: the
    loss is scaled up before the gradients are taken, so small float16
    gradients do not round to zero, and the gradients are scaled back before
    the update.

    Parameters
    ----------
    model : keras.Model
        The model to train (built).
    loss : str or keras.losses.Loss
        For example ``"mean_squared_error"``.
    optimizer : str or keras.optimizers.Optimizer
        A fresh optimizer (its state is created on the first step).
    jit_compile : bool
        Compile the step with XLA.

    Returns
    -------
    callable
        ``step(images, targets)`` returns the batch's loss (a scalar tensor).

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> step = make_train_step(model, "mean_squared_error", keras.optimizers.SGD(0.1))
    >>> x, y = np.ones((8, 4), "float32"), np.zeros((8, 1), "float32")
    >>> first = float(step(x, y)); second = float(step(x, y))
    >>> second < first
    True
    """
    import keras
    import tensorflow as tf

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model; received {type(model).__name__}.")
    if not isinstance(jit_compile, bool):
        raise TypeError(f"`jit_compile` must be True or False; received {jit_compile!r}.")
    loss_fn = keras.losses.get(loss)
    optimizer = keras.optimizers.get(optimizer)
    if model.dtype_policy.name == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

    @tf.function(jit_compile=jit_compile)
    def step(images, targets):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
            value = tf.reduce_mean(loss_fn(targets, tf.cast(predictions, "float32")))
            objective = optimizer.scale_loss(value) if scaled else value
        gradients = tape.gradient(objective, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return value

    return step
