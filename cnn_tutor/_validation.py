"""Shared argument checks for the public functions of :mod:`cnn_tutor`.

Every check raises ``TypeError`` or ``ValueError`` with a message that names
the argument, says what was expected and what was received, and, where there
is one, how to fix it.  Private: the public modules call these.
"""

import numbers
import re

import numpy as np


def check_int(name, value, *, minimum=None):
    """Return ``value`` as an ``int``; it must be an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; received {value!r} of type {type(value).__name__}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}; received {value!r}.")
    return int(value)


def check_float(name, value, *, minimum=None, maximum=None, allow_inf=False, allow_nan=False):
    """Return ``value`` (a Python or NumPy real number) as a ``float`` within ``[minimum, maximum]``.

    Infinite values pass only with ``allow_inf``, NaN only with ``allow_nan``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; received {value!r} of type {type(value).__name__}.")
    value = float(value)
    if (np.isinf(value) and not allow_inf) or (np.isnan(value) and not allow_nan):
        raise ValueError(f"`{name}` must be {'a number, not NaN' if allow_inf else 'finite'}; received {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}; received {value!r}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be <= {maximum}; received {value!r}.")
    return value


def check_bool(name, value):
    """Return ``value`` as a ``bool``; it must be ``True`` or ``False`` (NumPy's ``bool_`` too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; received {value!r} of type {type(value).__name__}.")
    return bool(value)


def check_choice(name, value, choices, *, aliases=None):
    """Return ``value`` if it is one of ``choices`` (``aliases`` maps other names to a choice).

    When the choices are strings, anything but a string (a list, a number, an
    array) is a ``TypeError`` that lists them, not an "unhashable type".
    """
    valid = ", ".join(repr(c) for c in choices)
    named = [c for c in choices if c is not None]
    if value is None and None in choices:
        return value
    if named and all(isinstance(c, str) for c in named) and not isinstance(value, str):
        raise TypeError(f"`{name}` must be a string, one of {valid}; received {value!r} of type {type(value).__name__}.")
    if aliases and value in aliases:
        value = aliases[value]
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {valid}; received {value!r}.")
    return value


_INHOMOGENEOUS = re.compile(r"inhomogeneous shape after (\d+) dimensions")


def as_array(name, value):
    """``np.asarray(value)``, with a message naming ``name`` for ragged nested lists."""
    try:
        return np.asarray(value)
    except ValueError as error:  # "setting an array element with a sequence": ragged nested lists
        match = _INHOMOGENEOUS.search(str(error))
        where = f" (the lengths differ after {match.group(1)} dimension(s))" if match else ""
        raise ValueError(
            f"`{name}` must be a rectangular array: nested lists of equal lengths; received a ragged "
            f"sequence{where}. Make every row the same length, or pass a NumPy array."
        ) from None


def as_float_array(name, value):
    """Return ``value`` as a float NumPy array; non-numeric input is a ``TypeError``, ragged lists a ``ValueError``."""
    array = as_array(name, value)
    if array.dtype == bool:
        return array.astype(np.float32)
    if not np.issubdtype(array.dtype, np.number):
        received = f"{value!r} of type {type(value).__name__}" if array.ndim == 0 else f"dtype {array.dtype}"
        raise TypeError(f"`{name}` must be a numeric array; received {received}.")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must be a real-valued array; received dtype {array.dtype}.")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array


def check_nonempty(name, array, axes):
    """Raise ``ValueError`` if an axis of ``array`` has length 0; ``axes`` names them, e.g. ``("batch", "height")``."""
    for axis, (length, label) in enumerate(zip(array.shape, axes)):
        if length == 0:
            raise ValueError(
                f"`{name}` must not be empty, but its axis {axis} ({label}) has length 0; received shape {array.shape}."
            )
    return array


def check_images(name, images, *, channels=None, value_range=(0.0, 1.0)):
    """Check an image batch in the book's convention and return it as float32.

    The convention is ``(batch, height, width, channels)``, float, values in
    ``value_range`` (``None`` skips the range check), at least one image of
    at least one pixel and one channel.
    """
    array = as_float_array(name, images)
    if array.ndim != 4:
        hint = ""
        if array.ndim == 2:
            hint = " For one grayscale image use `image[None, ..., None]`."
        elif array.ndim == 3:
            hint = " For one image use `image[None]`; for a grayscale batch use `images[..., None]`."
        raise ValueError(
            f"`{name}` must be 4-D (batch, height, width, channels); received shape {array.shape}.{hint}"
        )
    check_nonempty(name, array, ("batch", "height", "width", "channels"))
    if channels is not None and array.shape[-1] != channels:
        raise ValueError(f"`{name}` must have {channels} channel(s) in the last axis; received shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    if value_range is not None and array.size:
        low, high = value_range
        amin, amax = float(array.min()), float(array.max())
        if amin < low or amax > high:
            raise ValueError(
                f"`{name}` must have values in [{low}, {high}]; received values in [{amin:.4g}, {amax:.4g}]. "
                "Scale images to [0, 1] first (for uint8 images divide by 255)."
            )
    return array.astype(np.float32, copy=False)


def check_same_shape(name_a, a, name_b, b):
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape; received {np.shape(a)} and {np.shape(b)}."
        )


def as_rng(name, rng):
    """Return a NumPy ``Generator`` from ``rng`` (an int seed, a Generator, or None)."""
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"`{name}` must be a seed >= 0, a numpy.random.Generator or None; received {rng!r}.")
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"`{name}` must be an int seed, a numpy.random.Generator or None; received {rng!r}.")


def int_pair(name, value, *, minimum=None):
    """Return ``value`` as a pair of ints ``(height, width)``; an int means both."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = tuple(value.tolist())
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"`{name}` must be an int or a pair (height, width); received {value!r}.")
        return (
            check_int(f"{name}[0]", value[0], minimum=minimum),
            check_int(f"{name}[1]", value[1], minimum=minimum),
        )
    value = check_int(name, value, minimum=minimum)
    return value, value


def check_ndim(name, array, ndim, layout, *, hint=""):
    """Raise ``ValueError`` unless ``array`` has ``ndim`` dimensions named by ``layout``."""
    if array.ndim != ndim:
        raise ValueError(
            f"`{name}` must be {ndim}-D {layout}; received shape {array.shape}.{' ' + hint if hint else ''}"
        )
    return array


def check_int_array(name, value):
    """Return ``value`` (an int or an array of ints) as an integer NumPy array.

    Floats are refused even when whole (``1.0``), as :func:`check_int` does:
    a position or an index is counted, not measured.
    """
    array = as_array(name, value)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        shown = repr(value) if array.ndim == 0 else f"an array of dtype {array.dtype}"
        raise TypeError(
            f"`{name}` must be an integer or an array of integers; received {shown}. "
            "Round and convert first, e.g. `np.round(x).astype(int)`."
        )
    return array


def check_labels(name, labels, *, num_classes, length=None):
    """Return integer class labels as int64 ``(n,)``; each must lie in ``[0, num_classes)``.

    ``length`` is the number of images they belong to (checked when given).
    """
    array = as_array(name, labels)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"`{name}` must be integer class labels; received dtype {array.dtype}.")
    if array.ndim != 1:
        hint = " One-hot labels? Use `labels.argmax(axis=-1)`." if array.ndim == 2 else ""
        raise ValueError(f"`{name}` must be 1-D (one integer label per image); received shape {array.shape}.{hint}")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array) & (array == np.round(array))):
        raise ValueError(f"`{name}` must hold whole numbers (class indices); received non-integer values.")
    if length is not None and len(array) != length:
        raise ValueError(f"`{name}` must have one label per image ({length}); received {len(array)}.")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"`{name}` must lie in [0, {num_classes - 1}] for {num_classes} classes; "
            f"received values in [{int(array.min())}, {int(array.max())}]."
        )
    return array.astype(np.int64)


def check_shape3(name, shape, *, example=(28, 28, 1), divisible_by=None, layout="(height, width, channels)"):
    """Return ``shape`` as a tuple of three ints >= 1, e.g. an image shape ``(height, width, channels)``.

    ``divisible_by`` requires the first two (height and width) to be
    multiples of it, for networks that halve the size that many times.
    """
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ValueError(f"`{name}` must be {layout}, for example {tuple(example)}; received {shape!r}.")
    values = tuple(check_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(shape))
    if divisible_by is not None and (values[0] % divisible_by or values[1] % divisible_by):
        padded = tuple(-(-v // divisible_by) * divisible_by for v in values[:2]) + values[2:]
        raise ValueError(
            f"`{name}` must have a height and width divisible by {divisible_by}; received {values}. "
            f"Pad the images, e.g. to {padded}."
        )
    return values


def per_layer(name, value, count, *, minimum=1):
    """An int (the same for each of ``count`` layers) or a sequence of ``count`` ints, as a tuple."""
    if isinstance(value, (tuple, list)):
        if len(value) != count:
            raise ValueError(
                f"`{name}` must be an int or a sequence of {count} ints (one per layer); received {value!r}."
            )
        return tuple(check_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))
    return (check_int(name, value, minimum=minimum),) * count


def int_sequence(name, value, *, minimum=1, example=(32, 64), allow_empty=False):
    """A non-empty list or tuple of ints >= ``minimum``, as a tuple (an int alone is an error)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) or (not value and not allow_empty):
        raise ValueError(f"`{name}` must be a {'' if allow_empty else 'non-empty '}sequence of ints, e.g. {example}; received {value!r}.")
    return tuple(check_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))


def check_mask(name, mask, images):
    """A binary mask ``(batch, height, width, 1)`` (1 = missing or scored) for ``images``, as float32."""
    mask = as_float_array(name, mask)
    expected = tuple(images.shape[:3]) + (1,)
    if mask.shape != expected:
        raise ValueError(f"`{name}` must have shape {expected} (one channel, 1 = missing); received {mask.shape}.")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"`{name}` must be binary (1 where a pixel is missing, 0 elsewhere); received other values.")
    return mask.astype(np.float32)


def check_model(model, name="model"):
    """Raise ``TypeError`` unless ``model`` looks like a built Keras model (input shape, ``predict``, layers)."""
    if not all(hasattr(model, attribute) for attribute in ("input_shape", "output_shape", "predict", "layers", "get_layer")):
        raise TypeError(
            f"`{name}` must be a built Keras model (a keras.Model); received {model!r} of type {type(model).__name__}."
        )
    return model


def check_boxes(name, boxes):
    """Boxes ``(n, 4)`` as (top, left, bottom, right) floats, bottom >= top and right >= left; ``(4,)`` is one box."""
    array = as_float_array(name, boxes)
    if array.ndim == 1 and array.size in (0, 4):  # one box, or none
        array = array.reshape(-1, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(
            f"`{name}` must have shape (n, 4), one (top, left, bottom, right) row per box; received shape {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must hold finite coordinates; received {array.tolist()}.")
    if np.any(array[:, 2] < array[:, 0]) or np.any(array[:, 3] < array[:, 1]):
        raise ValueError(
            f"`{name}` must be (top, left, bottom, right) with bottom >= top and right >= left; received {array.tolist()}."
        )
    return array


def check_model_input(model, images, name="images"):
    """Check that ``images`` (a batch in [0, 1]) fit the model's input shape, channels included."""
    check_model(model)
    expected = tuple(model.input_shape[1:])
    images = check_images(name, images)
    received = images.shape[1:]
    if len(expected) != len(received) or any(e is not None and e != r for e, r in zip(expected, received)):
        hint = ""
        if expected[-1] == 1 and received[-1] == 3:
            hint = " Convert RGB to grayscale first, e.g. `images.mean(axis=-1, keepdims=True)`."
        elif expected[-1] == 3 and received[-1] == 1:
            hint = " Repeat the channel, e.g. `np.repeat(images, 3, axis=-1)`."
        raise ValueError(
            f"`{name}` must have shape (batch, {', '.join(str(e) for e in expected)}) for model "
            f"{model.name!r}; received shape {images.shape}.{hint}"
        )
    return images
