"""What the digit detector is trained on: dense target maps and the two losses that score them.

A detector cell sees one window of the canvas (:class:`cnn_tutor.models.detector.Geometry`).
:func:`encode_targets` turns ground-truth boxes into a class map (digit,
background, or ignored) and a box map per canvas; :func:`class_map_loss`
(balanced cross-entropy) and :func:`box_loss` (Huber on the positive cells)
are the two losses that :func:`cnn_tutor.models.training.train_detector`
compiles the detector with.  Both losses use ``keras.ops`` (any backend) and
are registered for serialisation.

Used by the Keras models chapter.
"""

import keras
import numpy as np

from cnn_tutor import _validation

__all__ = ["BOX_HUBER_DELTA", "box_loss", "class_map_loss", "encode_targets"]


def encode_targets(boxes, labels, *, image_size, geometry, num_classes=10, positive_radius=2.0, ignore_radius=5.0):
    """Turn ground-truth boxes into the dense targets of the detector's two maps.

    A cell is *positive* for a digit when the centre of its window lies
    within ``positive_radius`` pixels (in both directions) of the centre of
    the digit's box: its class target is the digit and its box target the
    digit's box relative to the window.  Cells between ``positive_radius``
    and ``ignore_radius`` from a digit are ignored (they see most of the
    digit, so neither "digit" nor "background" is fair); all other cells are
    background (class ``num_classes``).

    Parameters
    ----------
    boxes, labels : sequence of arrays
        Per image, ``(k, 4)`` boxes and ``(k,)`` labels (a
        :class:`~cnn_tutor.data.DetectionSet`'s fields).
    image_size : int
        Side of the (square) images.
    geometry : Geometry
        From :func:`cnn_tutor.models.detector.detector_geometry`.
    num_classes : int
        Object classes; background is ``num_classes``.
    positive_radius, ignore_radius : float
        See above.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``classes``: float32 ``(n, gh, gw, 1)``, the class index, or -1 for
        ignored cells; ``boxes``: float32 ``(n, gh, gw, 5)``, the four box
        coordinates divided by the window side, and 1 where the cell is
        positive (0 elsewhere).
    """
    if len(boxes) != len(labels):
        raise ValueError(f"`boxes` and `labels` must have one entry per image; received {len(boxes)} and {len(labels)}.")
    size = geometry.map_size(image_size)
    origins = np.arange(size, dtype=np.float32) * geometry.stride
    centres = origins + geometry.window / 2
    class_map = np.full((len(boxes), size, size, 1), num_classes, dtype=np.float32)
    box_map = np.zeros((len(boxes), size, size, 5), dtype=np.float32)
    for n, (image_boxes, image_labels) in enumerate(zip(boxes, labels)):
        image_boxes = np.asarray(image_boxes, dtype=np.float32).reshape(-1, 4)
        image_labels = _validation.check_labels(f"labels[{n}]", image_labels, num_classes=num_classes, length=len(image_boxes))
        best = np.full((size, size), np.inf, dtype=np.float32)
        for box, label in zip(image_boxes, image_labels):
            dy = np.abs(centres[:, None] - (box[0] + box[2]) / 2)
            dx = np.abs(centres[None, :] - (box[1] + box[3]) / 2)
            distance = np.maximum(dy, dx)
            near = distance <= ignore_radius
            class_map[n, near & (class_map[n, ..., 0] == num_classes), 0] = -1
            positive = (distance <= positive_radius) & (distance < best)
            best = np.where(positive, distance, best)
            class_map[n, positive, 0] = label
            rows, cols = np.nonzero(positive)
            relative = box[None] - np.stack([origins[rows], origins[cols], origins[rows], origins[cols]], axis=1)
            box_map[n, rows, cols, :4] = relative / geometry.window
            box_map[n, rows, cols, 4] = 1.0
    return class_map, box_map


@keras.saving.register_keras_serializable(package="cnn_tutor")
def class_map_loss(y_true, y_pred):
    """Cross-entropy of the class map, balanced between digit cells and background cells.

    Background cells outnumber digit cells about 30 to 1 on a 64x64 canvas;
    a plain average lets "everything is background" win.  So the mean over
    the digit cells and the mean over the background cells are added, and
    ignored cells (target -1) count in neither.

    Parameters
    ----------
    y_true : array_like
        ``(batch, gh, gw, 1)`` class indices, background ``num_classes``,
        ignored -1 (:func:`encode_targets`).
    y_pred : array_like
        ``(batch, gh, gw, num_classes + 1)`` probabilities.

    Returns
    -------
    array_like
        ``(batch,)``: the loss of each canvas.

    Examples
    --------
    >>> y_true = np.array([[[[0.0], [1.0], [-1.0]]]], "float32")  # a digit 0, background, ignored
    >>> y_pred = np.array([[[[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]]]], "float32")
    >>> np.round(np.asarray(class_map_loss(y_true, y_pred)), 4)  # -log 0.5 - log 0.75
    array([0.9808], dtype=float32)
    """
    ops = keras.ops
    target = y_true[..., 0]
    background = ops.shape(y_pred)[-1] - 1
    is_digit = ops.cast((target >= 0) & (target < ops.cast(background, target.dtype)), y_pred.dtype)
    is_background = ops.cast(target == ops.cast(background, target.dtype), y_pred.dtype)
    safe = ops.cast(ops.maximum(target, 0), "int32")
    probs = ops.clip(y_pred, 1e-7, 1.0)
    picked = ops.sum(ops.one_hot(safe, ops.shape(y_pred)[-1], dtype=y_pred.dtype) * probs, axis=-1)
    loss = -ops.log(picked)

    def mean_over(mask):
        return ops.sum(loss * mask, axis=(1, 2)) / ops.maximum(ops.sum(mask, axis=(1, 2)), 1.0)

    return mean_over(is_digit) + mean_over(is_background)


#: The Huber loss's ``delta`` on box coordinates (in window units): quadratic below, linear above.
BOX_HUBER_DELTA = 0.1


@keras.saving.register_keras_serializable(package="cnn_tutor")
def box_loss(y_true, y_pred):
    """Huber loss on the box coordinates of the positive cells, averaged over them per canvas.

    ``keras.losses.huber`` with ``delta = 0.1`` (window units), divided by
    ``delta`` so that a large error ``e`` costs ``|e| - delta / 2`` and a
    small one ``e^2 / (2 delta)``, summed over the four coordinates.

    Parameters
    ----------
    y_true : array_like
        ``(batch, gh, gw, 5)``: the four coordinates and 1 where the cell is
        positive (:func:`encode_targets`).
    y_pred : array_like
        ``(batch, gh, gw, 4)``.

    Returns
    -------
    array_like
        ``(batch,)``.

    Examples
    --------
    >>> y_true = np.zeros((1, 1, 2, 5), "float32"); y_true[0, 0, 0, 4] = 1  # one positive cell
    >>> y_pred = np.zeros((1, 1, 2, 4), "float32"); y_pred[0, 0, 0] = [0.05, 0.0, 0.0, 0.3]
    >>> np.round(np.asarray(box_loss(y_true, y_pred)), 4)  # 0.05**2 / 0.2 + (0.3 - 0.05)
    array([0.2625], dtype=float32)
    """
    ops = keras.ops
    mask = y_true[..., 4]
    huber = keras.losses.huber(y_true[..., :4], y_pred, delta=BOX_HUBER_DELTA)  # mean over the 4 coordinates
    loss = huber * (4.0 / BOX_HUBER_DELTA) * mask
    return ops.sum(loss, axis=(1, 2)) / ops.maximum(ops.sum(mask, axis=(1, 2)), 1.0)
