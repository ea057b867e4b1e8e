"""Transposed convolution, and the matrix view of convolution that explains it.

A convolution is linear, so it is a matrix ``C`` acting on the flattened
image (:func:`conv_matrix`).  Its transpose ``C.T`` maps the small output
shape back to the large input shape: that is the transposed convolution
(:func:`conv2d_transpose`), the upsampling layer of generators.  It is *not*
an inverse: ``C.T @ C`` is not the identity.

Used by the Padding and stride and Generation chapters.
"""

import numpy as np

from cnn_tutor import _validation, shapes
from cnn_tutor.ops import _common
from cnn_tutor.ops.padding import _padding_pairs

__all__ = ["conv2d_transpose", "conv_matrix"]


def conv_matrix(input_shape, kernel, *, strides=1, padding="valid", dilation=1):
    """The matrix of a single-channel convolution: ``conv(x).ravel() == C @ x.ravel()``.

    Row ``i * out_w + j`` holds the kernel's weights at the columns of the
    input pixels that output pixel ``(i, j)`` reads; padding pixels are zero,
    so they have no column.

    Parameters
    ----------
    input_shape : (int, int)
        ``(height, width)`` of the input.
    kernel : array_like
        ``(kernel_height, kernel_width)``.
    strides, padding, dilation
        As in :func:`cnn_tutor.ops.conv2d`.

    Returns
    -------
    numpy.ndarray
        ``(out_h * out_w, height * width)``.

    Examples
    --------
    >>> C = conv_matrix((3, 3), np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> C.shape
    (4, 9)
    >>> C[0]     # output (0, 0) reads input pixels 0, 1, 3, 4
    array([1., 2., 0., 3., 4., 0., 0., 0., 0.])
    """
    height, width = _validation.int_pair("input_shape", input_shape, minimum=1)
    kernel = _validation.check_ndim("kernel", _validation.as_float_array("kernel", kernel), 2, "(height, width)")
    _validation.check_nonempty("kernel", kernel, ("height", "width"))
    dummy = np.empty((1, height, width, 1))
    strides, dilation, pads, _, (out_h, out_w) = _common.geometry(
        dummy, kernel.shape, strides, padding, dilation, kernel_name="kernel", image_name="input_shape"
    )
    (top, _), (left, _) = pads
    matrix = np.zeros((out_h * out_w, height * width), dtype=kernel.dtype)
    for i in range(out_h):
        for j in range(out_w):
            for p in range(kernel.shape[0]):
                for q in range(kernel.shape[1]):
                    row = i * strides[0] + p * dilation[0] - top
                    col = j * strides[1] + q * dilation[1] - left
                    if 0 <= row < height and 0 <= col < width:
                        matrix[i * out_w + j, row * width + col] += kernel[p, q]
    return matrix


def _transpose_geometry(size, kernel, stride, padding, output_padding, dilation, axis="axis"):
    """``(output_size, crop_before)`` along one axis (``axis``: "height" or "width", for messages)."""
    output_size = shapes._conv_transpose_size(
        size, kernel, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation
    )
    if output_size < 1:
        raise ValueError(
            f"The output of conv2d_transpose would be empty along the {axis}: `images` of {axis} {size} with "
            f"`kernels` of {axis} {kernel}, strides {stride}, dilation {dilation}, padding {padding!r} and "
            f"output_padding {output_padding!r} give {output_size}. Use a larger `output_padding`, less "
            "`padding` (padding='valid') or an odd kernel size."
        )
    full = (size - 1) * stride + shapes.effective_kernel_size(kernel, dilation)
    if isinstance(padding, str):
        # TensorFlow pads the *forward* convolution (output -> input) the SAME way:
        # the smaller half of the total before.
        before = max(full - output_size, 0) // 2 if padding.lower() == "same" else 0
    else:
        before = padding[0]
    return output_size, before


def conv2d_transpose(images, kernels, *, strides=1, padding="valid", output_padding=None, dilation=1):
    """Transposed convolution ("deconvolution", fractionally strided convolution).

    Every input pixel *scatters* a copy of the kernel, scaled by its value,
    into the output, with the copies ``stride`` pixels apart; overlapping
    copies add up.  Then ``padding`` is cropped from the borders.  This is
    the transpose (adjoint) of :func:`cnn_tutor.ops.conv2d` with the same
    kernel, stride, padding and dilation:
    ``<conv2d(x, K), y> == <x, conv2d_transpose(y, K)>``.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, in_channels)``.
    kernels : array_like
        ``(kernel_height, kernel_width, out_channels, in_channels)``, the
        layout of ``tf.nn.conv2d_transpose`` and of Keras's
        ``Conv2DTranspose`` weights (the forward convolution's kernel).
    strides : int or (int, int)
        Distance between the scattered copies (the upsampling factor).
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))
        ``"valid"`` / ``"same"`` follow Keras (``"same"`` gives ``height *
        stride``); numbers are the padding of the forward convolution,
        cropped here.
    output_padding : int or (int, int), optional
        Extra rows / columns at the bottom / right (``< stride``).
    dilation : int or (int, int)
        ``>= 1``.

    Returns
    -------
    numpy.ndarray
        ``(batch, out_height, out_width, out_channels)``; sizes from
        :func:`cnn_tutor.shapes.conv_transpose_output_size`.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, ..., None]
    >>> k = np.ones((2, 2, 1, 1))
    >>> conv2d_transpose(x, k, strides=2)[0, ..., 0]     # each pixel becomes a 2x2 block
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.],
           [3., 3., 4., 4.],
           [3., 3., 4., 4.]])
    >>> conv2d_transpose(x, np.ones((3, 3, 1, 1)), strides=2)[0, ..., 0]   # 3x3 copies 2 apart overlap
    array([[ 1.,  1.,  3.,  2.,  2.],
           [ 1.,  1.,  3.,  2.,  2.],
           [ 4.,  4., 10.,  6.,  6.],
           [ 3.,  3.,  7.,  4.,  4.],
           [ 3.,  3.,  7.,  4.,  4.]])
    """
    images = _common.check_batch("images", images)
    kernels = _common.check_kernels("kernels", kernels, "(kernel_height, kernel_width, out_channels, in_channels)")
    _common.check_channels(images, kernels, 3, "in_channels")
    strides = _validation.int_pair("strides", strides, minimum=1)
    dilation = _validation.int_pair("dilation", dilation, minimum=1)
    extra = (None, None) if output_padding is None else _validation.int_pair("output_padding", output_padding, minimum=0)
    per_axis = (padding, padding) if isinstance(padding, str) else _padding_pairs(padding, names=True)
    batch, height, width, _ = images.shape
    kernel_h, kernel_w, out_channels, _ = kernels.shape
    (out_h, top), (out_w, left) = (
        _transpose_geometry(size, kernel, stride, pad, out_pad, rate, axis)
        for size, kernel, stride, pad, out_pad, rate, axis in zip(
            (height, width), (kernel_h, kernel_w), strides, per_axis, extra, dilation, ("height", "width")
        )
    )
    canvas_h = max((height - 1) * strides[0] + (kernel_h - 1) * dilation[0] + 1, top + out_h)
    canvas_w = max((width - 1) * strides[1] + (kernel_w - 1) * dilation[1] + 1, left + out_w)
    canvas = np.zeros((batch, canvas_h, canvas_w, out_channels), dtype=np.result_type(images, kernels))
    for p in range(kernel_h):
        for q in range(kernel_w):
            # Tap (p, q) of every copy: input pixel (i, j) lands at (i*s + p*d, j*s + q*d).
            row, col = p * dilation[0], q * dilation[1]
            canvas[
                :,
                row : row + (height - 1) * strides[0] + 1 : strides[0],
                col : col + (width - 1) * strides[1] + 1 : strides[1],
            ] += images @ kernels[p, q].T
    return canvas[:, top : top + out_h, left : left + out_w]
