"""Argument checks and window geometry shared by the convolution and pooling ops."""

import numpy as np

from cnn_tutor import _validation, shapes
from cnn_tutor.ops.padding import _padding_pairs


def check_batch(name, images):
    """``images`` as a float array of shape ``(batch, height, width, channels)``."""
    array = _validation.as_float_array(name, images)
    hint = ""
    if array.ndim == 2:
        hint = f"For one single-channel image use `{name}[None, ..., None]`."
    elif array.ndim == 3:
        hint = f"For one image use `{name}[None]`."
    _validation.check_ndim(name, array, 4, "(batch, height, width, channels)", hint=hint)
    return _validation.check_nonempty(name, array, ("batch", "height", "width", "channels"))


def check_kernels(name, kernels, layout):
    """``kernels`` as a 4-D float array; ``layout`` names its axes for the message."""
    array = _validation.as_float_array(name, kernels)
    hint = ""
    if array.ndim == 2:
        hint = f"For one single-channel filter use `{name}[..., None, None]`."
    _validation.check_ndim(name, array, 4, layout, hint=hint)
    return _validation.check_nonempty(name, array, layout.strip("()").split(", "))


def check_channels(images, kernels, axis, what):
    """Raise unless ``kernels.shape[axis]`` equals the channels of ``images``."""
    if kernels.shape[axis] != images.shape[-1]:
        raise ValueError(
            f"`kernels` must have {what} (axis {axis}) equal to the channels of `images` "
            f"({images.shape[-1]}); received kernels of shape {kernels.shape} for images of shape {images.shape}."
        )


def resolve_padding(padding, input_hw, kernel_hw, strides, dilation):
    """Padding ``((top, bottom), (left, right))`` from "valid", "same" or explicit amounts."""
    if isinstance(padding, str):
        per_axis = (padding, padding)
    else:
        per_axis = _padding_pairs(padding, names=True)
    return tuple(
        shapes.padding_amounts(size, kernel, stride=stride, padding=pad, dilation=rate)
        for size, kernel, stride, pad, rate in zip(input_hw, kernel_hw, strides, per_axis, dilation)
    )


def geometry(images, kernel_hw, strides, padding, dilation, *, kernel_name="kernels", image_name="images"):
    """Check the sliding-window arguments; return ``(strides, dilation, pads, spans, output_hw)``.

    ``kernel_name`` and ``image_name`` are the caller's names for the window and the input.
    """
    strides = _validation.int_pair("strides", strides, minimum=1)
    dilation = _validation.int_pair("dilation", dilation, minimum=1)
    input_hw = images.shape[1:3]
    pads = resolve_padding(padding, input_hw, kernel_hw, strides, dilation)
    spans = tuple(shapes.effective_kernel_size(k, d) for k, d in zip(kernel_hw, dilation))
    padded = tuple(size + before + after for size, (before, after) in zip(input_hw, pads))
    if spans[0] > padded[0] or spans[1] > padded[1]:
        raise ValueError(
            f"`{kernel_name}` ({kernel_hw[0]}x{kernel_hw[1]}, dilation {dilation}, spanning {spans[0]}x{spans[1]}) "
            f"must fit in the padded input ({padded[0]}x{padded[1]}: `{image_name}` {input_hw[0]}x{input_hw[1]} with "
            f"padding {pads}); received padding={padding!r}. Use padding='same', a smaller kernel or a smaller dilation."
        )
    output_hw = tuple((p - span) // s + 1 for p, span, s in zip(padded, spans, strides))
    return strides, dilation, pads, spans, output_hw


def windows(padded, kernel_hw, strides, dilation, output_hw):
    """Every window a kernel visits, as a view ``(batch, out_h, out_w, k_h, k_w, channels)``.

    No data is copied: ``sliding_window_view`` returns a view of ``padded``
    with two more axes, which strides and dilation then subsample.
    """
    spans = [shapes.effective_kernel_size(k, d) for k, d in zip(kernel_hw, dilation)]
    view = np.lib.stride_tricks.sliding_window_view(padded, spans, axis=(1, 2))  # (N, H', W', C, span_h, span_w)
    view = view[:, :: strides[0], :: strides[1]][:, : output_hw[0], : output_hw[1]]
    view = view[..., :: dilation[0], :: dilation[1]]
    return view.transpose(0, 1, 2, 4, 5, 3)
