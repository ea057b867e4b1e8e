"""A synthetic detection set: real MNIST digits scattered on larger canvases, with boxes.

Each canvas is black, ``canvas_size`` pixels square, and holds a few real
digits pasted at random positions where their ink does not overlap.  The
ground truth of each digit is its class and its *tight* box: the smallest
rectangle around the pixels brighter than ``ink_threshold`` (what a person
would draw), not the 28x28 frame the digit came in.  Everything follows from
the seed, so the same call gives the same set.

Used by the Keras models chapter (section "From classification to detection").
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = ["DetectionSet", "ink_box", "make_detection_set"]


class DetectionSet(typing.NamedTuple):
    """Canvases with their ground truth.

    Boxes are ``(top, left, bottom, right)`` in pixels, float32, with
    ``bottom`` and ``right`` exclusive (a box's height is ``bottom - top``).
    """

    #: float32 ``(n, canvas_size, canvas_size, 1)`` in [0, 1].
    images: np.ndarray
    #: One float32 ``(k_i, 4)`` array of boxes per canvas.
    boxes: tuple
    #: One int64 ``(k_i,)`` array of class labels per canvas.
    labels: tuple

    @property
    def num_objects(self):
        """Total number of digits over all canvases."""
        return int(sum(len(labels) for labels in self.labels))


def ink_box(image, *, ink_threshold=0.1):
    """The tight box ``(top, left, bottom, right)`` around the pixels above ``ink_threshold``.

    Parameters
    ----------
    image : array_like
        One image ``(height, width)`` or ``(height, width, 1)``.
    ink_threshold : float
        Pixels brighter than this count as ink.

    Returns
    -------
    numpy.ndarray
        float32 ``(4,)``; ``bottom`` and ``right`` are exclusive.

    Raises
    ------
    ValueError
        If the image has no ink.

    Examples
    --------
    >>> image = np.zeros((6, 6)); image[1:3, 2:5] = 1.0
    >>> ink_box(image)
    array([1., 2., 3., 5.], dtype=float32)
    """
    array = _validation.as_float_array("image", image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"`image` must be one grayscale image (height, width[, 1]); received shape {array.shape}.")
    _validation.check_nonempty("image", array, ("height", "width"))
    ink_threshold = _validation.check_float("ink_threshold", ink_threshold, minimum=0.0, maximum=1.0)
    rows = np.flatnonzero((array > ink_threshold).any(axis=1))
    cols = np.flatnonzero((array > ink_threshold).any(axis=0))
    if rows.size == 0:
        raise ValueError(f"`image` has no pixel brighter than ink_threshold={ink_threshold}; there is nothing to box.")
    return np.array([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1], dtype=np.float32)


def _overlaps(box, others, gap):
    for other in others:
        if (
            box[0] < other[2] + gap
            and other[0] < box[2] + gap
            and box[1] < other[3] + gap
            and other[1] < box[3] + gap
        ):
            return True
    return False


def make_detection_set(
    digits,
    labels,
    *,
    num_canvases,
    canvas_size=64,
    digits_per_canvas=(1, 3),
    gap=2,
    ink_threshold=0.1,
    num_classes=10,
    seed=0,
    max_tries=200,
    each_digit_once=False,
):
    """Scatter real digits on black canvases and record their boxes and classes.

    For every canvas the number of digits is drawn uniformly from
    ``digits_per_canvas``; each digit is drawn at random from ``digits`` and
    pasted (pixel-wise maximum) at a random position such that its ink box
    stays at least ``gap`` pixels away from the ink boxes already placed.  A
    digit that finds no free place after ``max_tries`` positions is left out,
    so crowded settings give fewer digits than asked, never overlapping ones.

    Parameters
    ----------
    digits : array_like
        Digit images ``(n, h, w, 1)`` in [0, 1], for example ``mnist.x_test``
        (use the test digits for held-out canvases).
    labels : array_like
        ``(n,)`` class labels of ``digits``.
    num_canvases : int
        Number of canvases.
    canvas_size : int
        Height and width of each canvas; at least the digits' size.
    digits_per_canvas : (int, int)
        Smallest and largest number of digits on a canvas (inclusive).
    gap : int
        Minimum distance in pixels between two ink boxes.
    ink_threshold : float
        Pixels brighter than this count as ink (for the boxes).
    num_classes : int
        The labels must lie in ``[0, num_classes)``.
    seed : int or numpy.random.Generator
        Seed of every random choice.
    max_tries : int
        Positions tried per digit before it is left out.
    each_digit_once : bool
        Draw the digits without replacement, in a seeded random order, so
        that no digit appears twice in the set (a test set whose canvases
        hold each test digit at most once).  The canvases must then ask for
        no more digits than there are.

    Returns
    -------
    DetectionSet
        ``(images, boxes, labels)``.

    Raises
    ------
    ValueError
        If the canvas is smaller than a digit, the labels are out of range or
        do not match the digits, ``digits_per_canvas`` is not a valid range,
        or ``each_digit_once`` runs out of digits.

    Examples
    --------
    >>> digits = np.zeros((2, 28, 28, 1), dtype=np.float32); digits[:, 4:24, 10:18] = 1.0
    >>> data = make_detection_set(digits, [3, 7], num_canvases=2, canvas_size=48, seed=0)
    >>> data.images.shape, [len(b) for b in data.boxes]
    ((2, 48, 48, 1), [2, 2])
    >>> make_detection_set(digits, [3, 7], num_canvases=1, canvas_size=20)
    Traceback (most recent call last):
    ...
    ValueError: `canvas_size` must be at least the digit size (28, 28); received 20. Use canvas_size >= 28.
    """
    digits = _validation.check_images("digits", digits, channels=1)
    if len(digits) == 0:
        raise ValueError("`digits` must contain at least one image; received an empty batch.")
    num_classes = _validation.check_int("num_classes", num_classes, minimum=1)
    labels = _validation.check_labels("labels", labels, num_classes=num_classes, length=len(digits))
    num_canvases = _validation.check_int("num_canvases", num_canvases, minimum=1)
    canvas_size = _validation.check_int("canvas_size", canvas_size, minimum=1)
    height, width = digits.shape[1:3]
    if canvas_size < max(height, width):
        raise ValueError(
            f"`canvas_size` must be at least the digit size ({height}, {width}); received {canvas_size}. "
            f"Use canvas_size >= {max(height, width)}."
        )
    if not isinstance(digits_per_canvas, (tuple, list)) or len(digits_per_canvas) != 2:
        raise ValueError(f"`digits_per_canvas` must be a pair (smallest, largest); received {digits_per_canvas!r}.")
    low = _validation.check_int("digits_per_canvas[0]", digits_per_canvas[0], minimum=0)
    high = _validation.check_int("digits_per_canvas[1]", digits_per_canvas[1], minimum=low)
    gap = _validation.check_int("gap", gap, minimum=0)
    max_tries = _validation.check_int("max_tries", max_tries, minimum=1)
    each_digit_once = _validation.check_bool("each_digit_once", each_digit_once)
    rng = _validation.as_rng("seed", seed)
    order = rng.permutation(len(digits)) if each_digit_once else None
    used = 0

    boxes_in_frame = np.stack([ink_box(digit, ink_threshold=ink_threshold) for digit in digits])
    images = np.zeros((num_canvases, canvas_size, canvas_size, 1), dtype=np.float32)
    all_boxes, all_labels = [], []
    for canvas_index in range(num_canvases):
        count = int(rng.integers(low, high + 1))
        boxes, classes = [], []
        for _ in range(count):
            if order is None:
                pick = int(rng.integers(len(digits)))
            else:
                if used == len(digits):
                    raise ValueError(
                        f"`each_digit_once` needs more digits than the {len(digits)} given: canvas {canvas_index} "
                        f"of {num_canvases} asks for more; use fewer canvases or digits per canvas."
                    )
                pick = int(order[used])
                used += 1
            for _ in range(max_tries):
                top = int(rng.integers(canvas_size - height + 1))
                left = int(rng.integers(canvas_size - width + 1))
                box = boxes_in_frame[pick] + np.array([top, left, top, left], dtype=np.float32)
                if not _overlaps(box, boxes, gap):
                    region = images[canvas_index, top : top + height, left : left + width]
                    np.maximum(region, digits[pick], out=region)
                    boxes.append(box)
                    classes.append(labels[pick])
                    break
        all_boxes.append(np.array(boxes, dtype=np.float32).reshape(-1, 4))
        all_labels.append(np.array(classes, dtype=np.int64))
    return DetectionSet(images=images, boxes=tuple(all_boxes), labels=tuple(all_labels))
