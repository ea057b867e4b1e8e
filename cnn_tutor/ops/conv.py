"""Multi-channel 2-D convolution in NHWC: a naive loop, a vectorised version, depthwise.

All three compute what ``tf.nn.conv2d`` / ``tf.nn.depthwise_conv2d``
compute (cross-correlation, kernels not flipped), with stride, dilation and
VALID / SAME / explicit zero padding; the tests check them against
TensorFlow.  :func:`conv2d_naive` is the lesson (one output number at a
time); :func:`conv2d` is what to use (one matrix product).

Used by the Convolution math, Padding and stride and Future directions
chapters.
"""

import numpy as np

from cnn_tutor.ops import _common
from cnn_tutor.ops.padding import pad

__all__ = ["conv2d", "conv2d_naive", "depthwise_conv2d"]

_KERNEL_LAYOUT = "(kernel_height, kernel_width, in_channels, out_channels)"


def _prepare(images, kernels, strides, padding, dilation, *, depthwise=False):
    images = _common.check_batch("images", images)
    layout = "(kernel_height, kernel_width, in_channels, channel_multiplier)" if depthwise else _KERNEL_LAYOUT
    kernels = _common.check_kernels("kernels", kernels, layout)
    _common.check_channels(images, kernels, 2, "in_channels")
    strides, dilation, pads, _, output_hw = _common.geometry(images, kernels.shape[:2], strides, padding, dilation)
    return images, kernels, strides, dilation, pad(images, pads), output_hw


def conv2d_naive(images, kernels, *, strides=1, padding="valid", dilation=1):
    """Multi-channel convolution (cross-correlation), one output number at a time.

    .. math:: Y[n, i, j, o] = \\sum_{p, q, c} X_\\text{pad}[n,\\ i s_h + p d_h,\\ j s_w + q d_w,\\ c] \\; K[p, q, c, o]

    Four Python loops (image, row, column, output channel), each computing
    one dot product between a window of the input and one filter.  It is
    slow on purpose: it is the formula, written out.  Use :func:`conv2d`.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, in_channels)``.
    kernels : array_like
        ``(kernel_height, kernel_width, in_channels, out_channels)``, as in
        ``tf.nn.conv2d``.
    strides : int or (int, int)
        Step of the window, ``>= 1``.
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))
        ``"same"`` is TensorFlow's rule (output ``ceil(n / stride)``, the odd
        row after); numbers give explicit zero padding.
    dilation : int or (int, int)
        Spacing between kernel taps, ``>= 1``.

    Returns
    -------
    numpy.ndarray
        ``(batch, out_height, out_width, out_channels)``.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> k = np.ones((2, 2, 1, 1))
    >>> conv2d_naive(x, k)[0, ..., 0]      # sums of 2x2 windows
    array([[ 8., 12.],
           [20., 24.]])
    """
    images, kernels, strides, dilation, padded, (out_h, out_w) = _prepare(images, kernels, strides, padding, dilation)
    kernel_h, kernel_w, _, out_channels = kernels.shape
    span_h, span_w = (kernel_h - 1) * dilation[0] + 1, (kernel_w - 1) * dilation[1] + 1
    result = np.zeros((len(images), out_h, out_w, out_channels), dtype=np.result_type(images, kernels))
    for n in range(len(images)):
        for i in range(out_h):
            for j in range(out_w):
                top, left = i * strides[0], j * strides[1]
                window = padded[n, top : top + span_h : dilation[0], left : left + span_w : dilation[1], :]
                for o in range(out_channels):
                    result[n, i, j, o] = np.sum(window * kernels[:, :, :, o])
    return result


def conv2d(images, kernels, *, strides=1, padding="valid", dilation=1):
    """Multi-channel convolution (cross-correlation), vectorised: windows, then one contraction.

    Same arguments and result as :func:`conv2d_naive`.  Instead of looping,
    it takes a *view* of every window the kernel visits (no copy), shaped
    ``(batch, out_h, out_w, kernel_h, kernel_w, in_channels)``, and contracts
    its last three axes with the kernel's first three in one
    ``np.tensordot``.  NumPy then lays the windows out as the rows of a
    matrix ("im2col") and hands one matrix product to BLAS, which is how
    deep-learning frameworks compute convolutions too.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, in_channels)``.
    kernels : array_like
        ``(kernel_height, kernel_width, in_channels, out_channels)``.
    strides : int or (int, int)
        ``>= 1``.
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))
        As in :func:`conv2d_naive`.
    dilation : int or (int, int)
        ``>= 1``.

    Returns
    -------
    numpy.ndarray
        ``(batch, out_height, out_width, out_channels)``.

    Raises
    ------
    ValueError
        Wrong number of dimensions, channel mismatch, a kernel that does not
        fit in the padded input, strides or dilation below 1, unknown padding.
    TypeError
        Non-numeric arrays, non-integer strides or dilation.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> k = np.ones((3, 3, 1, 1))
    >>> conv2d(x, k, padding="same", strides=2)[0, ..., 0]   # SAME pads 0 rows before, 1 after
    array([[45., 39.],
           [66., 50.]])
    >>> conv2d(x, np.ones((3, 3, 2, 1)))
    Traceback (most recent call last):
    ...
    ValueError: `kernels` must have in_channels (axis 2) equal to the channels of `images` (1); received kernels of shape (3, 3, 2, 1) for images of shape (1, 4, 4, 1).
    """
    images, kernels, strides, dilation, padded, output_hw = _prepare(images, kernels, strides, padding, dilation)
    patches = _common.windows(padded, kernels.shape[:2], strides, dilation, output_hw)
    return np.tensordot(patches, kernels, axes=3)


def depthwise_conv2d(images, kernels, *, strides=1, padding="valid", dilation=1):
    """Depthwise convolution: each input channel filtered on its own.

    Output channel ``c * multiplier + m`` is input channel ``c`` correlated
    with ``kernels[:, :, c, m]``, as in ``tf.nn.depthwise_conv2d``.  There is
    no sum over input channels, so it costs ``in_channels`` times fewer
    multiplications than :func:`conv2d` with the same number of outputs;
    followed by a 1x1 convolution it makes the depthwise-separable
    convolution of MobileNet and Xception.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, in_channels)``.
    kernels : array_like
        ``(kernel_height, kernel_width, in_channels, channel_multiplier)``.
    strides, padding, dilation
        As in :func:`conv2d`.

    Returns
    -------
    numpy.ndarray
        ``(batch, out_height, out_width, in_channels * channel_multiplier)``.

    Examples
    --------
    >>> x = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))], axis=-1)[None]   # two channels: 1s and 2s
    >>> depthwise_conv2d(x, np.ones((3, 3, 2, 1)))[0, 0, 0]
    array([ 9., 18.])
    """
    images, kernels, strides, dilation, padded, output_hw = _prepare(
        images, kernels, strides, padding, dilation, depthwise=True
    )
    patches = _common.windows(padded, kernels.shape[:2], strides, dilation, output_hw)
    result = np.einsum("nhwpqc,pqcm->nhwcm", patches, kernels)
    return result.reshape(*result.shape[:3], -1)
