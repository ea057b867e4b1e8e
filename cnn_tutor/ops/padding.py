"""Padding modes: what a convolution sees beyond the border of an image.

Used by the Padding and stride chapter, and by :func:`cnn_tutor.ops.conv2d`
and the pooling functions (which pad with zeros or ignore the padding).
"""

import numbers

import numpy as np

from cnn_tutor import _validation

__all__ = ["PADDING_MODES", "pad", "pad_source_index"]

#: The padding modes, with the name NumPy / PyTorch / TensorFlow use for each.
PADDING_MODES = {
    "zero": "constant 0 (TensorFlow's CONSTANT, what Conv2D padding='same' adds)",
    "constant": "any constant value",
    "reflect": "mirror without repeating the border pixel: d c b | a b c d | c b a (TF REFLECT)",
    "symmetric": "mirror repeating the border pixel: c b a | a b c d | d c b (TF SYMMETRIC)",
    "edge": "repeat the border pixel: a a a | a b c d | d d d (PyTorch 'replicate')",
    "circular": "wrap around from the opposite edge: b c d | a b c d | a b c (NumPy 'wrap')",
}

_ALIASES = {"replicate": "edge", "wrap": "circular"}


def pad_source_index(position, size, mode):
    """Where a padded position reads from: the index into an axis of length ``size``.

    ``position`` counts from the first pixel of the image, so ``-1`` is the
    first row of padding before it and ``size`` the first row after it.  Every
    padding mode except the constant ones is a rule that maps such a position
    back into ``[0, size)``; this function is that rule.

    Parameters
    ----------
    position : int or array of int
        Positions along the axis, any integers.
    size : int
        Length of the axis (``>= 1``).
    mode : {"reflect", "symmetric", "edge", "circular"}
        The rule (the aliases "replicate" and "wrap" work too).

    Returns
    -------
    numpy.ndarray of int
        Indices in ``[0, size)``.

    Examples
    --------
    >>> positions = np.arange(-3, 7)   # three positions either side of an axis of length 4
    >>> for mode in ("reflect", "symmetric", "edge", "circular"):
    ...     print(f"{mode:>9}", pad_source_index(positions, 4, mode))
      reflect [3 2 1 0 1 2 3 2 1 0]
    symmetric [2 1 0 0 1 2 3 3 2 1]
         edge [0 0 0 0 1 2 3 3 3 3]
     circular [1 2 3 0 1 2 3 0 1 2]
    """
    size = _validation.check_int("size", size, minimum=1)
    mode = _validation.check_choice("mode", mode, ("reflect", "symmetric", "edge", "circular"), aliases=_ALIASES)
    position = _validation.check_int_array("position", position)
    if mode == "circular":  # periodic with period n
        return position % size
    if mode == "edge":  # clamp to the nearest border pixel
        return np.clip(position, 0, size - 1)
    if mode == "symmetric":  # periodic with period 2n: a b c d d c b a | a b ...
        folded = position % (2 * size)
        return np.where(folded < size, folded, 2 * size - 1 - folded)
    if size == 1:  # reflect: nothing to mirror but the pixel itself
        return np.zeros_like(position)
    period = 2 * (size - 1)  # periodic with period 2(n - 1): a b c d c b | a b ...
    folded = position % period
    return np.where(folded < size, folded, period - folded)


def _spatial_axes(name, array):
    if array.ndim == 4:
        return 1, 2
    if array.ndim in (2, 3):
        return 0, 1
    raise ValueError(
        f"`{name}` must be 2-D (height, width), 3-D (height, width, channels) or 4-D "
        f"(batch, height, width, channels); received shape {array.shape}."
    )


def _padding_pairs(padding, *, names=False):
    """``((top, bottom), (left, right))`` from an int, a pair, or a pair of pairs.

    ``names``: the caller also accepts "valid" and "same" (said in the message).
    """
    forms = "'valid', 'same', an int p" if names else "an int p"
    message = (
        f"`padding` must be {forms}, a pair (p_height, p_width) or ((top, bottom), (left, right)) "
        f"of non-negative ints; received {padding!r}."
    )
    if isinstance(padding, np.ndarray):
        padding = padding.tolist()
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(message)
        if all(isinstance(item, (tuple, list)) for item in padding):
            return tuple(_validation.int_pair(f"padding[{i}]", item, minimum=0) for i, item in enumerate(padding))
        if any(isinstance(item, (tuple, list)) for item in padding):
            raise ValueError(message)
        height, width = _validation.int_pair("padding", padding, minimum=0)
        return (height, height), (width, width)
    if isinstance(padding, (bool, np.bool_)) or not isinstance(padding, numbers.Integral):
        raise TypeError(message)
    value = _validation.check_int("padding", padding, minimum=0)
    return (value, value), (value, value)


def pad(images, padding, *, mode="zero", value=0.0):
    """Pad the height and width of an image or a batch of images.

    Parameters
    ----------
    images : array_like
        ``(height, width)``, ``(height, width, channels)`` or
        ``(batch, height, width, channels)``.
    padding : int, (int, int) or ((int, int), (int, int))
        ``p`` on every side; ``(p_height, p_width)``; or
        ``((top, bottom), (left, right))`` for asymmetric padding.
    mode : str
        One of ``PADDING_MODES`` ("zero", "constant", "reflect",
        "symmetric", "edge", "circular"); "replicate" and "wrap" are aliases
        of "edge" and "circular".
    value : float
        The fill value of ``mode="constant"``.

    Returns
    -------
    numpy.ndarray
        The padded array, floating point.

    Raises
    ------
    ValueError
        For an unknown ``mode``, negative padding, or ``mode="reflect"`` with
        an axis of length 1 and non-zero padding (there is nothing to mirror).
    TypeError
        If ``images`` is not numeric.

    Examples
    --------
    >>> row = np.array([[1.0, 2.0, 3.0]])
    >>> pad(row, ((0, 0), (2, 2)), mode="zero")
    array([[0., 0., 1., 2., 3., 0., 0.]])
    >>> pad(row, ((0, 0), (2, 2)), mode="reflect")
    array([[3., 2., 1., 2., 3., 2., 1.]])
    >>> pad(row, ((0, 0), (2, 2)), mode="circular")
    array([[2., 3., 1., 2., 3., 1., 2.]])
    >>> pad(row, 1, mode="mirror")
    Traceback (most recent call last):
    ...
    ValueError: `mode` must be one of 'zero', 'constant', 'reflect', 'symmetric', 'edge', 'circular'; received 'mirror'.
    """
    array = _validation.as_float_array("images", images)
    mode = _validation.check_choice("mode", mode, tuple(PADDING_MODES), aliases=_ALIASES)
    # Any real number, NumPy's included; +-inf too (-inf is what max pooling pads with), not NaN.
    value = 0.0 if mode == "zero" else _validation.check_float("value", value, allow_inf=True)
    axes = _spatial_axes("images", array)
    _validation.check_nonempty("images", array, {2: ("height", "width"), 3: ("height", "width", "channels"),
                                                 4: ("batch", "height", "width", "channels")}[array.ndim])
    pairs = _padding_pairs(padding)

    if mode in ("zero", "constant"):
        shape = list(array.shape)
        where = [slice(None)] * array.ndim
        for axis, (before, after) in zip(axes, pairs):
            shape[axis] += before + after
            where[axis] = slice(before, before + array.shape[axis])
        padded = np.full(shape, value, dtype=array.dtype)
        padded[tuple(where)] = array
        return padded

    padded = array
    for axis, (before, after) in zip(axes, pairs):
        size = array.shape[axis]
        if mode == "reflect" and size == 1 and before + after > 0:
            raise ValueError(
                f"`mode='reflect'` needs at least 2 pixels along each padded axis; axis {axis} of `images` "
                f"(shape {array.shape}) has 1. Use mode='edge' or 'symmetric'."
            )
        positions = np.arange(-before, size + after)
        padded = np.take(padded, pad_source_index(positions, size, mode), axis=axis)
    return padded
