"""Detection scores: box overlap, non-maximum suppression, recall and false positives.

- :func:`box_iou`: intersection over union of every pair of boxes;
- :func:`non_max_suppression`: keep the best of overlapping boxes;
- :func:`evaluate_detections`: match detections to the ground truth and
  count what was found (:class:`DetectionScore`);
- :func:`average_precision`: the precision-recall curve over all score
  thresholds and its area, per class and averaged (:class:`PrecisionRecall`).

Boxes are ``(top, left, bottom, right)`` in pixels with ``bottom`` and
``right`` exclusive, as in :mod:`cnn_tutor.data.detection`.  NumPy only.

Used by the Keras models chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = ["DetectionScore", "PrecisionRecall", "average_precision", "box_iou", "evaluate_detections", "non_max_suppression"]


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


def _check_detections(detections, dataset):
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
    if len(detections) != len(dataset.boxes):
        raise ValueError(
            f"`detections` must have one entry per image ({len(dataset.boxes)}); received {len(detections)}."
        )


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
    _check_detections(detections, dataset)
    match_class = _validation.check_bool("match_class", match_class)
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


class PrecisionRecall(typing.NamedTuple):
    """What :func:`average_precision` returns."""

    #: The mean over the classes that have objects of their average precision (mAP).
    mean_ap: float
    #: The average precision of each class, ``(num_classes,)`` (NaN for a class without objects).
    per_class: np.ndarray
    #: Precision after each detection of all classes together, ranked by decreasing score.
    precision: np.ndarray
    #: Recall after each of those detections (the share of all objects found so far).
    recall: np.ndarray
    #: The score of each of those detections.
    scores: np.ndarray


def _area(hits, num_objects):
    """All-point average precision of a ranked list of hits (1) and misses (0)."""
    if num_objects == 0:
        return float("nan"), np.zeros(0), np.zeros(0)
    true_positives = np.cumsum(hits)
    precision = true_positives / np.arange(1, len(hits) + 1)
    recall = true_positives / num_objects
    # the precision envelope: the best precision at this recall or beyond
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(hits) else precision
    steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(steps * envelope)), precision, recall


def average_precision(detections, dataset, *, iou_threshold=0.5, num_classes=10):
    """Average precision at one IoU: the area under the precision-recall curve, per class and averaged.

    All detections of a class, from every image, are ranked by score.  Going
    down the ranking, a detection is a hit when it overlaps a not yet found
    object of its class on its image with ``IoU >= iou_threshold`` (the
    best-overlapping such object is then found), and a miss otherwise.
    After each detection the precision is the share of hits so far and the
    recall the share of the class's objects found so far.  The average
    precision is the area under that curve with the precision replaced by
    its best value at that recall or beyond (the all-point interpolation of
    PASCAL VOC since 2010); objects never detected keep the recall below 1.
    Unlike one recall and one false-positive count, it scores the detector
    over every score threshold, so no threshold has to be chosen first.

    Parameters
    ----------
    detections : list of Detections
        One per image, with ``boxes``, ``labels`` and ``scores`` (decode
        them with a low score threshold so that the curve reaches far).
    dataset : DetectionSet
        The ground truth.
    iou_threshold : float
        The usual 0.5.
    num_classes : int
        Classes are ``0 .. num_classes - 1``.

    Returns
    -------
    PrecisionRecall

    Examples
    --------
    Two objects of class 0; three detections: a hit, a miss (it overlaps
    nothing), then the second hit.  Precision 1, 1/2, 2/3 at recall 1/2,
    1/2, 1: the envelope gives 1 on the first half and 2/3 on the second.

    >>> import types
    >>> truth = types.SimpleNamespace(boxes=[np.array([[0, 0, 10, 10], [20, 20, 30, 30]])],
    ...                               labels=[np.array([0, 0])])
    >>> found = [types.SimpleNamespace(boxes=np.array([[0, 0, 10, 10], [40, 40, 50, 50], [20, 20, 30, 31]]),
    ...                                labels=np.array([0, 0, 0]), scores=np.array([0.9, 0.8, 0.7]))]
    >>> result = average_precision(found, truth, num_classes=1)
    >>> round(result.mean_ap, 4), result.precision.round(3).tolist()
    (0.8333, [1.0, 0.5, 0.667])
    """
    _check_detections(detections, dataset)
    iou_threshold = _validation.check_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    num_classes = _validation.check_int("num_classes", num_classes, minimum=1)
    # every detection as (score, image, index), judged in the order of its score
    entries = [(float(score), image, index) for image, found_here in enumerate(detections)
               for index, score in enumerate(np.asarray(found_here.scores).reshape(-1))]
    entries.sort(key=lambda entry: -entry[0])
    ious = [box_iou(np.asarray(found_here.boxes).reshape(-1, 4), np.asarray(truth).reshape(-1, 4))
            for found_here, truth in zip(detections, dataset.boxes)]
    truth_labels = [np.asarray(labels).reshape(-1) for labels in dataset.labels]
    matched = [np.zeros(len(labels), dtype=bool) for labels in truth_labels]
    hits, classes, scores = [], [], []
    for score, image, index in entries:
        label = int(np.asarray(detections[image].labels).reshape(-1)[index])
        overlap = np.where(~matched[image] & (truth_labels[image] == label), ious[image][index], -1.0)
        best = int(np.argmax(overlap)) if len(overlap) else -1
        hit = best >= 0 and overlap[best] >= iou_threshold
        if hit:
            matched[image][best] = True
        hits.append(float(hit))
        classes.append(label)
        scores.append(score)
    hits, classes = np.array(hits), np.array(classes, dtype=np.int64)
    counts = np.bincount(np.concatenate(truth_labels).astype(np.int64), minlength=num_classes) if truth_labels \
        else np.zeros(num_classes, np.int64)
    if len(counts) > num_classes:
        raise ValueError(f"`dataset` has labels outside 0..{num_classes - 1}; received up to {len(counts) - 1}.")
    per_class = np.array([_area(hits[classes == c], counts[c])[0] for c in range(num_classes)])
    _, precision, recall = _area(hits, int(counts.sum()))
    present = counts > 0
    return PrecisionRecall(
        mean_ap=float(np.mean(per_class[present])) if present.any() else float("nan"),
        per_class=per_class,
        precision=precision,
        recall=recall,
        scores=np.array(scores),
    )
