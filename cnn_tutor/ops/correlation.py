"""Single-channel cross-correlation and convolution: the article's formula, as code.

Used by the Convolution math chapter, which checks both functions against
``scipy.signal.correlate2d`` / ``convolve2d`` and ``tf.nn.conv2d``.
"""

import numpy as np

from cnn_tutor import _validation
from cnn_tutor.ops.padding import pad

__all__ = ["CORRELATION_MODES", "convolve2d", "correlate2d"]

#: Output-size modes, named as in ``scipy.signal``.
CORRELATION_MODES = ("valid", "same", "full")


def _check_pair(image, kernel):
    image = _validation.check_ndim("image", _validation.as_float_array("image", image), 2, "(height, width)")
    kernel = _validation.check_ndim("kernel", _validation.as_float_array("kernel", kernel), 2, "(height, width)")
    if kernel.size == 0 or image.size == 0:
        raise ValueError(f"`image` and `kernel` must be non-empty; received shapes {image.shape} and {kernel.shape}.")
    return image, kernel


def _mode_padding(mode, kernel_shape, flipped):
    """Zero padding ``((top, bottom), (left, right))`` for a SciPy-style mode."""
    _validation.check_choice("mode", mode, CORRELATION_MODES)
    pairs = []
    for k in kernel_shape:
        if mode == "valid":
            pairs.append((0, 0))
        elif mode == "full":
            pairs.append((k - 1, k - 1))
        else:  # "same": the extra row of an even kernel goes after; flipping the kernel moves it before
            pairs.append((k // 2, (k - 1) // 2) if flipped else ((k - 1) // 2, k // 2))
    return tuple(pairs)


def _correlate_valid(X, f):
    """Y[i, j] = sum_p sum_q X[i + p, j + q] f[p, q], one output pixel at a time."""
    P, Q = f.shape
    out_h, out_w = X.shape[0] - P + 1, X.shape[1] - Q + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"`kernel` must fit in the (padded) image: received a {P}x{Q} kernel for a "
            f"{X.shape[0]}x{X.shape[1]} image. Use mode='same' or 'full', or a smaller kernel."
        )
    Y = np.zeros((out_h, out_w), dtype=np.result_type(X, f))
    for i in range(out_h):
        for j in range(out_w):
            Y[i, j] = np.sum(X[i : i + P, j : j + Q] * f)
    return Y


def correlate2d(image, kernel, *, mode="valid"):
    """Cross-correlate a 2-D image with a 2-D kernel (what CNN "convolution" layers compute).

    .. math:: Y[i, j] = \\sum_{p=0}^{P-1} \\sum_{q=0}^{Q-1} X[i + p, j + q] \\, f[p, q]

    This is the formula the source article calls convolution; the kernel
    slides over the image *without* being flipped.

    Parameters
    ----------
    image : array_like
        ``(height, width)``.
    kernel : array_like
        ``(P, Q)``.
    mode : {"valid", "same", "full"}
        Output size as in ``scipy.signal.correlate2d``: only where the
        kernel fits (``H - P + 1``), the input's size (zero padding, the extra
        row of an even kernel after), or every overlap (``H + P - 1``).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If an array is not 2-D, the kernel does not fit (``mode="valid"``),
        or ``mode`` is unknown.
    TypeError
        If an array is not numeric.

    Examples
    --------
    >>> X = np.array([[1, 2, 0], [0, 1, 3], [4, 0, 1]])
    >>> f = np.array([[1, 0], [0, -1]])
    >>> correlate2d(X, f)            # Y[0, 0] = 1*1 + 2*0 + 0*0 + 1*(-1) = 0
    array([[ 0., -1.],
           [ 0.,  0.]])
    >>> correlate2d(X, f, mode="same").shape
    (3, 3)
    """
    image, kernel = _check_pair(image, kernel)
    padded = pad(image, _mode_padding(mode, kernel.shape, flipped=False))
    return _correlate_valid(padded, kernel)


def convolve2d(image, kernel, *, mode="valid"):
    """Convolve a 2-D image with a 2-D kernel: cross-correlation with the kernel flipped.

    .. math:: Y[i, j] = \\sum_{p} \\sum_{q} X[i - p, j - q] \\, f[p, q]
       = (X \\star \\tilde f)[i, j], \\qquad \\tilde f[p, q] = f[P-1-p, Q-1-q]

    True convolution flips the kernel by 180 degrees before sliding it.  It
    is commutative and associative (a blur followed by a blur is one blur),
    which cross-correlation is not.  For a kernel with 180-degree symmetry
    the two agree.

    Parameters
    ----------
    image, kernel : array_like
        2-D arrays.
    mode : {"valid", "same", "full"}
        As in ``scipy.signal.convolve2d``.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> X = np.array([[1, 2, 0], [0, 1, 3], [4, 0, 1]])
    >>> f = np.array([[1, 0], [0, -1]])
    >>> convolve2d(X, f)
    array([[0., 1.],
           [0., 0.]])
    >>> bool(np.all(convolve2d(X, f) == correlate2d(X, f[::-1, ::-1])))
    True
    """
    image, kernel = _check_pair(image, kernel)
    padded = pad(image, _mode_padding(mode, kernel.shape, flipped=True))
    return _correlate_valid(padded, kernel[::-1, ::-1])
