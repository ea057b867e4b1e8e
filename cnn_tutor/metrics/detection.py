"""Detection scores: box overlap, non-maximum suppression, recall and false positives.

- :func:`box_iou`: intersection over union of every pair of boxes;
- :func:`non_max_suppression`: keep the best of overlapping boxes;
- :func:`evaluate_detections`: match detections to the ground truth and
  count what was found (:class:`DetectionScore`).

Boxes are ``(top, left, bottom, right)`` in pixels with ``bottom`` and
``right`` exclusive, as in :mod:`cnn_tutor.data.detection`.  NumPy only.

Used by the Keras models chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = ["DetectionScore", "box_iou", "evaluate_detections", "non_max_suppression"]


def box_iou(boxes_a, boxes_b):
    """Intersection over union of every pair of boxes.

    Parameters
    ----------
    boxes_a, boxes_b : array_like
        ``(n, 4)`` and ``(m, 4)`` boxes ``(top, left, bottom, right)``.

    Returns
    -------
    numpy.ndarray
        float64 ``(n, m)``.

    Examples
    --------
    >>> box_iou([[0, 0, 10, 10]], [[0, 5, 10, 15], [20, 20, 30, 30]]).round(3)
    array([[0.333, 0.   ]])
    """
    a = _validation.check_boxes("boxes_a", boxes_a)
    b = _validation.check_boxes("boxes_b", boxes_b)
    top = np.maximum(a[:, None, 0], b[None, :, 0])
    left = np.maximum(a[:, None, 1], b[None, :, 1])
    bottom = np.minimum(a[:, None, 2], b[None, :, 2])
    right = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(bottom - top, 0, None) * np.clip(right - left, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def non_max_suppression(boxes, scores, *, iou_threshold=0.5, max_output_size=None):
    """Greedy non-maximum suppression: the indices of the boxes to keep, best score first.

    Take the best-scoring box, drop every remaining box that overlaps it by
    more than ``iou_threshold`` (:func:`box_iou`), repeat.  Boxes with equal
    scores are taken in their order.  This is what
    ``tf.image.non_max_suppression`` computes (the tests check both agree), in
    NumPy, so it runs on any backend.

    Parameters
    ----------
    boxes : array_like
        ``(n, 4)`` boxes ``(top, left, bottom, right)``.
    scores : array_like
        ``(n,)`` scores.
    iou_threshold : float
        Boxes overlapping a kept box by more than this are dropped.
    max_output_size : int, optional
        Keep at most this many.

    Returns
    -------
    numpy.ndarray
        int64 indices into ``boxes``.

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
    >>> non_max_suppression(boxes, [0.6, 0.9, 0.8], iou_threshold=0.5)
    array([1, 2])
    """
    boxes = _validation.check_boxes("boxes", boxes)
    scores = _validation.as_float_array("scores", scores).ravel()
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"`scores` must be finite; received {scores.tolist()}.")
    if len(scores) != len(boxes):
        raise ValueError(f"`scores` must have one entry per box ({len(boxes)}); received {len(scores)}.")
    iou_threshold = _validation.check_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    limit = len(boxes) if max_output_size is None else _validation.check_int("max_output_size", max_output_size, minimum=0)
    order = np.argsort(-scores, kind="stable")
    ious = box_iou(boxes, boxes)
    keep = []
    suppressed = np.zeros(len(boxes), dtype=bool)
    for index in order:
        if len(keep) >= limit:
            break
        if suppressed[index]:
            continue
        keep.append(index)
        suppressed |= ious[index] > iou_threshold
    return np.asarray(keep, dtype=np.int64)


class DetectionScore(typing.NamedTuple):
    """What :func:`evaluate_detections` returns."""

    #: Share of ground-truth objects found with IoU >= the threshold and the right class.
    recall: float
    #: Detections that match no object, per image.
    false_positives_per_image: float
    #: Objects found, objects in total, unmatched detections, images.
    found: int
    total: int
    false_positives: int
    images: int


def evaluate_detections(detections, dataset, *, iou_threshold=0.5, match_class=True):
    """Match detections to the ground truth and count hits and false positives.

    Detections are taken in order of decreasing score; each one is matched to
    the not-yet-matched object of the *same class* with which it has the
    largest IoU, if that IoU is at least ``iou_threshold``.  Unmatched
    detections are false positives (a right box with the wrong class is a
    false positive and a missed object).

    Parameters
    ----------
    detections : list of Detections
        From :func:`cnn_tutor.models.detector.detect`, one per image (any
        objects with ``boxes``, ``labels`` and ``scores``).
    dataset : DetectionSet
        The ground truth.
    iou_threshold : float
        The usual 0.5.
    match_class : bool
        Require the right class; ``False`` scores localisation alone.

    Returns
    -------
    DetectionScore

    Examples
    --------
    >>> import types
    >>> truth = types.SimpleNamespace(boxes=[np.array([[0, 0, 10, 10]])], labels=[np.array([3])])
    >>> found = [types.SimpleNamespace(boxes=np.array([[1, 0, 11, 10]]), labels=np.array([5]), scores=np.array([0.9]))]
    >>> evaluate_detections(found, truth).recall, evaluate_detections(found, truth, match_class=False).recall
    (0.0, 1.0)
    """
    if isinstance(detections, (str, bytes)) or not isinstance(detections, (list, tuple)):
        raise TypeError(
            f"`detections` must be a list with one Detections per image; received {detections!r} of type "
            f"{type(detections).__name__}."
        )
    for index, found_here in enumerate(detections):
        if not all(hasattr(found_here, key) for key in ("boxes", "labels", "scores")):
            raise TypeError(
                f"`detections[{index}]` must have `boxes`, `labels` and `scores` (a Detections); received "
                f"{found_here!r} of type {type(found_here).__name__}."
            )
    if not all(hasattr(dataset, key) for key in ("boxes", "labels")):
        raise TypeError(
            f"`dataset` must have `boxes` and `labels` (a DetectionSet); received {dataset!r} of type "
            f"{type(dataset).__name__}."
        )
    match_class = _validation.check_bool("match_class", match_class)
    if len(detections) != len(dataset.boxes):
        raise ValueError(
            f"`detections` must have one entry per image ({len(dataset.boxes)}); received {len(detections)}."
        )
    iou_threshold = _validation.check_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    found = false_positives = total = 0
    for found_here, truth_boxes, truth_labels in zip(detections, dataset.boxes, dataset.labels):
        total += len(truth_boxes)
        matched = np.zeros(len(truth_boxes), dtype=bool)
        order = np.argsort(-np.asarray(found_here.scores), kind="stable")
        ious = box_iou(np.asarray(found_here.boxes).reshape(-1, 4), truth_boxes)
        for index in order:
            candidates = ~matched
            if match_class:
                candidates = candidates & (np.asarray(truth_labels) == found_here.labels[index])
            overlap = np.where(candidates, ious[index], -1.0)
            best = int(np.argmax(overlap)) if len(overlap) else -1
            if best >= 0 and overlap[best] >= iou_threshold:
                matched[best] = True
                found += 1
            else:
                false_positives += 1
    images = len(detections)
    return DetectionScore(
        recall=found / total if total else float("nan"),
        false_positives_per_image=false_positives / images if images else float("nan"),
        found=found,
        total=total,
        false_positives=false_positives,
        images=images,
    )
