"""Max and average pooling, and global pooling, in NHWC.

They match ``tf.nn.max_pool2d`` and ``tf.nn.avg_pool2d``: padding never
wins a max, and an average counts only the real pixels of its window.
Used by the Pooling chapter.
"""

import numpy as np

from cnn_tutor import _validation
from cnn_tutor.ops import _common
from cnn_tutor.ops.padding import pad

__all__ = ["avg_pool2d", "global_avg_pool2d", "global_max_pool2d", "max_pool2d"]


def _pool_windows(images, pool_size, strides, padding, fill):
    """Windows ``(batch, out_h, out_w, pool_h, pool_w, channels)`` of ``images`` padded with ``fill``."""
    pool_size = _validation.int_pair("pool_size", pool_size, minimum=1)
    strides = pool_size if strides is None else strides
    strides, _, pads, _, output_hw = _common.geometry(images, pool_size, strides, padding, 1, kernel_name="pool_size")
    for (before, after), size, axis in zip(pads, pool_size, ("height", "width")):
        if max(before, after) >= size:
            raise ValueError(
                f"`padding` must be smaller than `pool_size` along the {axis} (a window must hold one real "
                f"pixel); received padding {pads} for pool_size {pool_size}."
            )
    padded = pad(images, pads, mode="constant", value=fill)
    return _common.windows(padded, pool_size, strides, (1, 1), output_hw), pads


def max_pool2d(images, pool_size=2, *, strides=None, padding="valid"):
    """Max pooling: the largest value of each window, channel by channel.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)``.
    pool_size : int or (int, int)
        Window size.
    strides : int or (int, int), optional
        Step of the window; defaults to ``pool_size`` (windows that do not
        overlap), as in Keras.
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))
        ``"same"`` is TensorFlow's rule.  Padded positions hold ``-inf``, so
        they never win.

    Returns
    -------
    numpy.ndarray
        ``(batch, out_height, out_width, channels)``.

    Examples
    --------
    >>> x = np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 8]], float)[None, ..., None]
    >>> max_pool2d(x, 2)[0, ..., 0]
    array([[4., 2.],
           [2., 8.]])
    """
    images = _common.check_batch("images", images)
    patches, _ = _pool_windows(images, pool_size, strides, padding, -np.inf)
    return patches.max(axis=(3, 4))


def avg_pool2d(images, pool_size=2, *, strides=None, padding="valid"):
    """Average pooling: the mean of each window, channel by channel.

    Where a window overlaps the padding, only its real pixels are averaged
    (TensorFlow's rule for SAME), so the border is not darkened.

    Parameters
    ----------
    images, pool_size, strides, padding
        As in :func:`max_pool2d`.

    Returns
    -------
    numpy.ndarray
        ``(batch, out_height, out_width, channels)``.

    Examples
    --------
    >>> x = np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 8]], float)[None, ..., None]
    >>> avg_pool2d(x, 2)[0, ..., 0]
    array([[2.5 , 1.  ],
           [1.25, 6.5 ]])
    >>> avg_pool2d(np.ones((1, 3, 3, 1)), 2, padding="same")[0, ..., 0]   # padding does not count
    array([[1., 1.],
           [1., 1.]])
    """
    images = _common.check_batch("images", images)
    sums, pads = _pool_windows(images, pool_size, strides, padding, 0.0)
    ones = np.ones((1, *images.shape[1:3], 1), dtype=images.dtype)
    counts, _ = _pool_windows(ones, pool_size, strides, pads, 0.0)  # real pixels per window
    return sums.sum(axis=(3, 4)) / counts.sum(axis=(3, 4))


def _global(images, keepdims, reduce):
    images = _common.check_batch("images", images)
    keepdims = _validation.check_bool("keepdims", keepdims)
    return reduce(images, axis=(1, 2), keepdims=keepdims)


def global_avg_pool2d(images, *, keepdims=False):
    """Global average pooling: one mean per image and channel, ``(batch, channels)``.

    Replaces ``Flatten`` + ``Dense`` at the end of a classifier with no
    weights at all, and accepts any image size.

    Examples
    --------
    >>> global_avg_pool2d(np.arange(8.0).reshape(1, 2, 2, 2))
    array([[3., 4.]])
    """
    return _global(images, keepdims, np.mean)


def global_max_pool2d(images, *, keepdims=False):
    """Global max pooling: one maximum per image and channel, ``(batch, channels)``.

    Examples
    --------
    >>> global_max_pool2d(np.arange(8.0).reshape(1, 2, 2, 2), keepdims=True).shape
    (1, 1, 1, 2)
    """
    return _global(images, keepdims, np.max)
