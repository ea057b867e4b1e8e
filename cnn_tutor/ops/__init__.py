"""NumPy reference implementations of convolution and pooling: the lesson, checked against TensorFlow.

These are written to be read: each function is the formula of the chapter
that uses it, with the arguments of its TensorFlow counterpart, and the tests
check every one against TensorFlow (and SciPy) on hundreds of random cases.

- ``padding``: :func:`pad` with the zero, constant,
  reflect, symmetric, edge and circular modes;
- ``correlation``: single-channel :func:`correlate2d` and
  :func:`convolve2d` (Convolution math chapter);
- ``conv``: multi-channel :func:`conv2d_naive`,
  :func:`conv2d` and :func:`depthwise_conv2d` in NHWC (Convolution math,
  Padding and stride, Future directions);
- ``transposed``: :func:`conv_matrix` and
  :func:`conv2d_transpose` (Padding and stride, Generation);
- ``pooling``: :func:`max_pool2d`, :func:`avg_pool2d`
  and global pooling (Pooling).

Images are ``(batch, height, width, channels)``; kernels are
``(kernel_height, kernel_width, in_channels, out_channels)`` as in
``tf.nn.conv2d``.  Convolution layers compute cross-correlation (the kernel is
not flipped), and so do these functions; :func:`convolve2d` is the true
convolution.
"""

from cnn_tutor.ops.conv import conv2d, conv2d_naive, depthwise_conv2d
from cnn_tutor.ops.correlation import CORRELATION_MODES, convolve2d, correlate2d
from cnn_tutor.ops.padding import PADDING_MODES, pad, pad_source_index
from cnn_tutor.ops.pooling import avg_pool2d, global_avg_pool2d, global_max_pool2d, max_pool2d
from cnn_tutor.ops.transposed import conv2d_transpose, conv_matrix

__all__ = [
    "CORRELATION_MODES",
    "PADDING_MODES",
    "avg_pool2d",
    "conv2d",
    "conv2d_naive",
    "conv2d_transpose",
    "conv_matrix",
    "convolve2d",
    "correlate2d",
    "depthwise_conv2d",
    "global_avg_pool2d",
    "global_max_pool2d",
    "max_pool2d",
    "pad",
    "pad_source_index",
]
