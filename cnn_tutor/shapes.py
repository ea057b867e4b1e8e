"""Shape arithmetic of convolution and pooling, one spatial axis at a time.

Every function here answers a question the Padding-and-stride chapter asks
("how big is the output?", "how much padding does SAME add, and where?",
"how much of the input does this unit see?") and is checked in the tests
against the output shapes of real Keras layers.  The conventions follow
Dumoulin & Visin (2016), *A guide to convolution arithmetic for deep
learning*, with padding given per side so that TensorFlow's asymmetric SAME
padding fits the same formulas.

The functions work on one axis (height or width): call them once per axis.

Used by the Padding and stride and Pooling chapters, and by
:mod:`cnn_tutor.ops`.
"""

import numbers
import typing

from cnn_tutor import _validation

__all__ = [
    "PADDINGS",
    "ReceptiveField",
    "conv_output_size",
    "conv_transpose_output_size",
    "effective_kernel_size",
    "padding_amounts",
    "pool_output_size",
    "receptive_fields",
    "same_padding",
]

#: The padding names that the shape functions and the ops understand.
PADDINGS = ("valid", "same")


def effective_kernel_size(kernel_size, dilation=1):
    """The span of a dilated kernel: ``k + (k - 1)(d - 1)``.

    A dilation ``d`` leaves ``d - 1`` holes between neighbouring taps.

    Examples
    --------
    >>> effective_kernel_size(3, dilation=2)
    5
    """
    kernel_size = _validation.check_int("kernel_size", kernel_size, minimum=1)
    dilation = _validation.check_int("dilation", dilation, minimum=1)
    return kernel_size + (kernel_size - 1) * (dilation - 1)


def same_padding(input_size, kernel_size, *, stride=1, dilation=1):
    """TensorFlow's SAME padding along one axis, as ``(before, after)``.

    SAME makes the output size ``ceil(input_size / stride)``.  The padding it
    needs is ``max((o - 1) * s + k_eff - i, 0)`` in total; TensorFlow puts the
    smaller half *before* (top/left) and the rest *after* (bottom/right), so
    an odd total pads one more row at the bottom than at the top.

    Parameters
    ----------
    input_size, kernel_size : int
        Sizes along the axis (``>= 1``).
    stride, dilation : int
        ``>= 1``.

    Returns
    -------
    (int, int)

    Examples
    --------
    >>> same_padding(5, 3)
    (1, 1)
    >>> same_padding(6, 3, stride=2)   # output 3; total padding 1, all of it after
    (0, 1)
    >>> same_padding(5, 4)             # even kernel: the extra row goes after
    (1, 2)
    """
    input_size = _validation.check_int("input_size", input_size, minimum=1)
    stride = _validation.check_int("stride", stride, minimum=1)
    span = effective_kernel_size(kernel_size, dilation)
    output_size = -(-input_size // stride)  # ceil(i / s)
    total = max((output_size - 1) * stride + span - input_size, 0)
    return total // 2, total - total // 2


def _check_explicit(padding):
    """``padding`` as ``(before, after)``; an int means the same on both sides."""
    message = f"`padding` must be 'valid', 'same', an int or a (before, after) pair; received {padding!r}."
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(message)
        return (
            _validation.check_int("padding[0]", padding[0], minimum=0),
            _validation.check_int("padding[1]", padding[1], minimum=0),
        )
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral):
        raise TypeError(f"{message[:-1]} of type {type(padding).__name__}.")
    value = _validation.check_int("padding", padding, minimum=0)
    return value, value


def padding_amounts(input_size, kernel_size, *, stride=1, padding="valid", dilation=1):
    """Resolve a padding specification to ``(before, after)`` along one axis.

    Parameters
    ----------
    input_size, kernel_size : int
        Sizes along the axis.
    stride, dilation : int
        ``>= 1``.
    padding : {"valid", "same"}, int or (int, int)
        ``"valid"`` (no padding), ``"same"`` (TensorFlow's rule, see
        :func:`same_padding`), ``p`` on both sides, or ``(before, after)``.

    Returns
    -------
    (int, int)

    Examples
    --------
    >>> padding_amounts(28, 3, padding="same"), padding_amounts(28, 3, padding=(0, 2))
    ((1, 1), (0, 2))
    >>> padding_amounts(28, 3, padding="full")
    Traceback (most recent call last):
    ...
    ValueError: `padding` must be one of 'valid', 'same'; received 'full'.
    """
    input_size = _validation.check_int("input_size", input_size, minimum=1)
    stride = _validation.check_int("stride", stride, minimum=1)
    effective_kernel_size(kernel_size, dilation)  # checks both
    if isinstance(padding, str):
        _validation.check_choice("padding", padding.lower(), PADDINGS)
        if padding.lower() == "valid":
            return 0, 0
        return same_padding(input_size, kernel_size, stride=stride, dilation=dilation)
    return _check_explicit(padding)


def conv_output_size(input_size, kernel_size, *, stride=1, padding="valid", dilation=1):
    """Output size of a convolution along one axis.

    .. math:: o = \\left\\lfloor \\frac{i + p_\\text{before} + p_\\text{after} - k_\\text{eff}}{s} \\right\\rfloor + 1,
       \\qquad k_\\text{eff} = k + (k - 1)(d - 1)

    which is Dumoulin & Visin's ``floor((i + 2p - k) / s) + 1`` with the
    padding given per side.  ``"same"`` gives ``ceil(i / s)`` and ``"valid"``
    gives ``ceil((i - k_eff + 1) / s)``, as in TensorFlow.

    Parameters
    ----------
    input_size, kernel_size : int
        Sizes along the axis (``>= 1``).
    stride, dilation : int
        ``>= 1``.
    padding : {"valid", "same"}, int or (int, int)
        See :func:`padding_amounts`.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the (dilated) kernel does not fit in the padded input, or an
        argument is out of range.

    Examples
    --------
    >>> conv_output_size(28, 3), conv_output_size(28, 3, padding="same")
    (26, 28)
    >>> conv_output_size(7, 3, stride=2, padding=1), conv_output_size(7, 3, dilation=2)
    (4, 3)
    >>> conv_output_size(4, 3, dilation=2)
    Traceback (most recent call last):
    ...
    ValueError: `kernel_size` must fit in the padded input: a kernel of size 3 with dilation 2 spans 5, but the padded input has size 4 (4 + 0 + 0). Use padding='same', a smaller kernel_size or a smaller dilation.
    """
    input_size = _validation.check_int("input_size", input_size, minimum=1)
    stride = _validation.check_int("stride", stride, minimum=1)
    span = effective_kernel_size(kernel_size, dilation)
    before, after = padding_amounts(input_size, kernel_size, stride=stride, padding=padding, dilation=dilation)
    padded = input_size + before + after
    if span > padded:
        raise ValueError(
            f"`kernel_size` must fit in the padded input: a kernel of size {kernel_size} with dilation "
            f"{dilation} spans {span}, but the padded input has size {padded} ({input_size} + {before} + "
            f"{after}). Use padding='same', a smaller kernel_size or a smaller dilation."
        )
    return (padded - span) // stride + 1


def pool_output_size(input_size, pool_size, *, stride=None, padding="valid"):
    """Output size of a pooling window along one axis: ``floor((i + p - k) / s) + 1``.

    Pooling slides a window like a convolution without weights, so the rule
    is :func:`conv_output_size` with dilation 1.  ``stride`` defaults to
    ``pool_size`` (non-overlapping windows), as in Keras.

    Examples
    --------
    >>> pool_output_size(28, 2), pool_output_size(7, 2), pool_output_size(7, 2, padding="same")
    (14, 3, 4)
    >>> pool_output_size(7, 3, stride=1)
    5
    """
    pool_size = _validation.check_int("pool_size", pool_size, minimum=1)
    stride = pool_size if stride is None else stride
    return conv_output_size(input_size, pool_size, stride=stride, padding=padding)


def conv_transpose_output_size(input_size, kernel_size, *, stride=1, padding="valid", output_padding=None, dilation=1):
    """Output size of a transposed convolution along one axis.

    A transposed convolution undoes the *shape* change of a convolution with
    the same kernel, stride and padding.  With explicit padding the rule is
    Dumoulin & Visin's relationship 14,

    .. math:: o = s (i - 1) + k_\\text{eff} - p_\\text{before} - p_\\text{after} + a,

    where ``a`` (``output_padding``, default 0) picks one of the ``s`` input
    sizes that a strided convolution maps to the same output size.  With
    ``"valid"`` or ``"same"`` it follows Keras's ``Conv2DTranspose``:
    ``"same"`` gives ``i * s`` and ``"valid"`` gives ``i * s + max(k_eff - s, 0)``
    when ``output_padding`` is None.

    Parameters
    ----------
    input_size, kernel_size : int
        Sizes along the axis (``>= 1``).
    stride, dilation : int
        ``>= 1``.
    padding : {"valid", "same"}, int or (int, int)
        Keras's names, or the padding of the convolution being transposed.
    output_padding : int, optional
        Extra rows at the end, ``0 <= a < max(stride, dilation)``.

    Returns
    -------
    int

    Examples
    --------
    >>> conv_transpose_output_size(14, 3, stride=2, padding="same")
    28
    >>> conv_transpose_output_size(14, 3, stride=2), conv_transpose_output_size(14, 2, stride=2)
    (29, 28)
    >>> conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1)   # undoes 8 -> 4
    8
    >>> conv_transpose_output_size(1, 2, padding="same", output_padding=0)
    Traceback (most recent call last):
    ...
    ValueError: The transposed convolution's output would be empty (size 0): input_size=1, kernel_size=2 (span 2), stride=1, padding='same', output_padding=0. Use output_padding=None (Keras's default), padding='valid', or an odd kernel_size.
    """
    size = _conv_transpose_size(
        input_size, kernel_size, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation
    )
    if size < 1:
        raise ValueError(
            f"The transposed convolution's output would be empty (size {size}): input_size={input_size}, "
            f"kernel_size={kernel_size} (span {effective_kernel_size(kernel_size, dilation)}), stride={stride}, "
            f"padding={padding!r}, output_padding={output_padding!r}. Use output_padding=None (Keras's default), "
            "padding='valid', or an odd kernel_size."
        )
    return size


def _conv_transpose_size(input_size, kernel_size, *, stride, padding, output_padding, dilation):
    """:func:`conv_transpose_output_size` with its arguments checked, even when the result is < 1."""
    input_size = _validation.check_int("input_size", input_size, minimum=1)
    stride = _validation.check_int("stride", stride, minimum=1)
    span = effective_kernel_size(kernel_size, dilation)
    if output_padding is not None:
        output_padding = _validation.check_int("output_padding", output_padding, minimum=0)
        if output_padding >= max(stride, dilation):
            raise ValueError(
                f"`output_padding` must be smaller than the stride or the dilation ({max(stride, dilation)}); "
                f"received {output_padding}."
            )
    if isinstance(padding, str):
        padding = _validation.check_choice("padding", padding.lower(), PADDINGS)
        if padding == "valid":
            extra = max(span - stride, 0) if output_padding is None else span + output_padding - stride
            return input_size * stride + extra
        if output_padding is None:
            return input_size * stride
        return (input_size - 1) * stride + span % 2 + output_padding
    before, after = _check_explicit(padding)
    size = stride * (input_size - 1) + span - before - after + (output_padding or 0)
    if size < 1:
        raise ValueError(
            f"`padding` {padding!r} crops more than the transposed convolution produces "
            f"({stride * (input_size - 1) + span} before cropping); use less padding."
        )
    return size


class ReceptiveField(typing.NamedTuple):
    """What one unit of a layer sees, along one axis.

    Attributes
    ----------
    size : int
        How many input pixels influence one output unit.
    jump : int
        The distance, in input pixels, between neighbouring output units (the
        product of the strides so far).
    start : float
        The input coordinate of the centre of the first unit's field (negative
        when padding puts it outside the image).
    """

    size: int
    jump: int
    start: float


def receptive_fields(layers, *, input_start=0.0):
    """Receptive field of every layer of a stack, along one axis.

    Each layer adds ``(k_eff - 1) * jump`` to the field, where ``jump`` is the
    product of the strides of the layers below it:

    .. math:: r_l = r_{l-1} + (k_{\\text{eff},l} - 1) j_{l-1}, \\qquad j_l = j_{l-1} s_l

    Parameters
    ----------
    layers : sequence
        One entry per layer: ``(kernel_size, stride)``,
        ``(kernel_size, stride, dilation)`` or
        ``(kernel_size, stride, dilation, pad_before)``, in order from the
        input.  Pooling layers count like convolutions.
    input_start : float
        Coordinate of the first input pixel's centre.

    Returns
    -------
    list of ReceptiveField
        One per layer.

    Examples
    --------
    >>> [field.size for field in receptive_fields([(3, 1), (3, 1), (3, 1)])]   # three 3x3 convs see 7x7
    [3, 5, 7]
    >>> receptive_fields([(3, 1), (2, 2), (3, 1)])[-1]
    ReceptiveField(size=8, jump=2, start=3.5)
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"`layers` must be a sequence of (kernel_size, stride[, dilation[, pad_before]]); received {layers!r}.")
    size, jump, start = 1, 1, _validation.check_float("input_start", input_start)
    fields = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or not 2 <= len(layer) <= 4:
            raise ValueError(
                f"`layers[{index}]` must be (kernel_size, stride[, dilation[, pad_before]]); received {layer!r}."
            )
        kernel_size, stride, dilation, pad_before = tuple(layer) + (None, None, 1, 0)[len(layer) :]
        kernel_size = _validation.check_int(f"layers[{index}] kernel_size", kernel_size, minimum=1)
        stride = _validation.check_int(f"layers[{index}] stride", stride, minimum=1)
        dilation = _validation.check_int(f"layers[{index}] dilation", dilation, minimum=1)
        pad_before = _validation.check_int(f"layers[{index}] pad_before", pad_before, minimum=0)
        span = effective_kernel_size(kernel_size, dilation)
        start = start + ((span - 1) / 2 - pad_before) * jump
        size = size + (span - 1) * jump
        jump = jump * stride
        fields.append(ReceptiveField(size, jump, start))
    return fields
