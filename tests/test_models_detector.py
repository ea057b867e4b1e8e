"""Tests of cnn_tutor.models.detector and detector_targets, and of cnn_tutor.metrics.detection.

The fully convolutional rewrite, the geometry, the targets and both losses on
hand-computed cases, decoding with non-maximum suppression, and scoring.
"""

import types

import numpy as np
import pytest

from cnn_tutor import metrics
from cnn_tutor.data import detection
from cnn_tutor.models import classifier, detector, detector_targets, training

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.usefixtures("quiet_runtime")


@pytest.fixture(scope="module")
def article_model():
    return classifier.build_classifier(seed=0)


@pytest.fixture
def canvases():
    digits = np.zeros((4, 28, 28, 1), dtype=np.float32)
    for index in range(4):
        digits[index, 4:24, 9 : 15 + index] = 1.0
    return detection.make_detection_set(digits, np.arange(4), num_canvases=4, canvas_size=48, seed=0)


def test_geometry_of_the_articles_trunk():
    geometry = detector.detector_geometry()
    assert geometry == detector.Geometry(stride=4, window=26)
    assert geometry.map_size(28) == 1 and geometry.map_size(64) == 10 and geometry.map_size(20) == 0
    # by hand: 3x3 conv (3), 2x2 pool (4, jump 2), 3x3 conv (8), pool (10, jump 4), conv (18), head 3x3 (26)
    assert detector.detector_geometry(num_conv=2, head_kernel=1) == detector.Geometry(stride=2, window=8)


def test_fully_convolutional_rewrite_is_exact(article_model):
    rng = np.random.default_rng(0)
    digits = rng.random((6, 28, 28, 1), dtype=np.float32)
    fcn = detector.to_fully_convolutional(article_model)
    np.testing.assert_allclose(fcn.predict(digits, verbose=0)[:, 0, 0], article_model.predict(digits, verbose=0), atol=1e-5)
    # On a larger canvas: one class distribution per window, equal to the classifier on that window.
    canvas = rng.random((1, 64, 64, 1), dtype=np.float32)
    maps = fcn.predict(canvas, verbose=0)
    assert maps.shape == (1, 10, 10, 10)
    window = canvas[:, 8:36, 12:40]  # cell (2, 3): top-left corner (4 * 2, 4 * 3)
    np.testing.assert_allclose(maps[0, 2, 3], article_model.predict(window, verbose=0)[0], atol=1e-5)


def test_rewrite_rejects_other_architectures():
    with pytest.raises(ValueError, match="padding='valid'"):
        detector.to_fully_convolutional(classifier.build_classifier(padding="same", compile=False))
    with pytest.raises(ValueError, match="build_classifier"):
        detector.to_fully_convolutional(classifier.build_dense_classifier(compile=False))


def test_build_detector_copies_the_classifier(article_model):
    model = detector.build_detector(classifier=article_model, seed=0)
    outputs = model.predict(np.zeros((2, 48, 48, 1), dtype=np.float32), verbose=0)
    assert outputs["classes"].shape == (2, 6, 6, 11) and outputs["boxes"].shape == (2, 6, 6, 4)
    np.testing.assert_array_equal(model.get_layer("conv2").get_weights()[0], article_model.get_layer("conv2").get_weights()[0])
    kernel = model.get_layer("classes").get_weights()[0]
    np.testing.assert_array_equal(kernel[0, 0, :, :10], article_model.get_layer("probabilities").get_weights()[0])
    with pytest.raises(ValueError, match="detector's architecture"):
        detector.build_detector(num_classes=5, classifier=article_model)


def test_encode_targets():
    geometry = detector.detector_geometry()
    box = np.array([[20.0, 30.0, 40.0, 44.0]])  # centre (30, 37)
    classes, boxes = detector_targets.encode_targets([box], [np.array([7])], image_size=64, geometry=geometry)
    assert classes.shape == (1, 10, 10, 1) and boxes.shape == (1, 10, 10, 5)
    positive = np.argwhere(classes[0, ..., 0] == 7)
    # Window centres are 4 * i + 13: rows 4 (29) and cols 6 (37) are within 2 pixels.
    assert positive.tolist() == [[4, 6]]
    np.testing.assert_allclose(boxes[0, 4, 6, :4], (box[0] - [16, 24, 16, 24]) / 26)
    assert boxes[0, ..., 4].sum() == 1
    assert (classes[0, ..., 0] == -1).sum() > 0  # ignored neighbours
    assert (classes[0, ..., 0] == 10).sum() == 100 - 1 - (classes[0, ..., 0] == -1).sum()


def test_class_map_loss_on_a_hand_computed_case():
    # One canvas, 2x2 cells, 2 digit classes + background (index 2): a digit-0 cell, a digit-1 cell,
    # a background cell and an ignored cell (-1). The loss is the mean over digit cells plus the
    # mean over background cells; the ignored cell counts in neither.
    y_true = np.array([[[[0.0], [1.0]], [[2.0], [-1.0]]]], np.float32)
    y_pred = np.array([[[[0.5, 0.25, 0.25], [0.2, 0.4, 0.4]], [[0.1, 0.1, 0.8], [0.9, 0.05, 0.05]]]], np.float32)
    expected = (-np.log(0.5) - np.log(0.4)) / 2 + -np.log(0.8)
    np.testing.assert_allclose(np.asarray(detector_targets.class_map_loss(y_true, y_pred)), [expected], rtol=1e-5)
    # Without any background cell the second term is 0, not a division by zero.
    only_digits = np.array([[[[0.0], [1.0]], [[-1.0], [-1.0]]]], np.float32)
    np.testing.assert_allclose(
        np.asarray(detector_targets.class_map_loss(only_digits, y_pred)), [(-np.log(0.5) - np.log(0.4)) / 2], rtol=1e-5
    )


def test_box_loss_is_huber_on_positive_cells_only():
    delta = detector_targets.BOX_HUBER_DELTA
    y_true = np.zeros((1, 1, 3, 5), np.float32)
    y_true[0, 0, :2, 4] = 1.0  # two positive cells; the third is background and must not count
    y_pred = np.zeros((1, 1, 3, 4), np.float32)
    y_pred[0, 0, 0] = [0.04, -0.02, 0.0, 0.0]  # small errors: quadratic, e^2 / (2 delta)
    y_pred[0, 0, 1] = [0.5, 0.0, 0.0, 0.0]  # a large error: linear, |e| - delta / 2
    y_pred[0, 0, 2] = [9.0, 9.0, 9.0, 9.0]  # background cell
    cell0 = (0.04**2 + 0.02**2) / (2 * delta)
    cell1 = 0.5 - delta / 2
    np.testing.assert_allclose(np.asarray(detector_targets.box_loss(y_true, y_pred)), [(cell0 + cell1) / 2], rtol=1e-5)


def test_train_detector_runs_and_decodes(article_model, canvases):
    model = detector.build_detector(classifier=article_model, seed=0)
    history = training.train_detector(model, canvases, epochs=1, batch_size=2).history
    assert {"loss", "classes_loss", "boxes_loss"} <= set(history)
    assert all(np.isfinite(v[-1]) for v in history.values())
    found = detector.detect(model, canvases.images, score_threshold=0.0)
    assert len(found) == 4
    for item in found:
        assert item.boxes.shape[1] == 4 and len(item.labels) == len(item.scores) <= 20
        assert np.all(np.diff(item.scores) <= 0)
    with pytest.raises(ValueError, match="at least 26x26"):
        detector.detect(model, np.zeros((1, 20, 20, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="1 channel"):
        detector.detect(model, np.zeros((1, 48, 48, 3), dtype=np.float32))


def test_decode_applies_threshold_and_non_max_suppression():
    geometry = detector.Geometry(stride=4, window=26)
    classes = np.zeros((1, 3, 3, 11), dtype=np.float32)
    classes[..., 10] = 1.0  # background everywhere
    classes[0, 1, 1] = 0.0
    classes[0, 1, 1, 3] = 0.9  # a confident 3 ...
    classes[0, 1, 2] = 0.0
    classes[0, 1, 2, 3] = 0.6  # ... and its weaker neighbour proposing almost the same box
    boxes = np.zeros((1, 3, 3, 4), dtype=np.float32)
    boxes[0, 1, 1] = [2 / 26, 2 / 26, 22 / 26, 16 / 26]
    boxes[0, 1, 2] = [2 / 26, -2 / 26, 22 / 26, 12 / 26]
    (found,) = detector.decode_detections(classes, boxes, geometry=geometry, score_threshold=0.5)
    assert found.labels.tolist() == [3] and found.scores.tolist() == pytest.approx([0.9])
    np.testing.assert_allclose(found.boxes[0], [6, 6, 26, 20], atol=1e-5)
    (none,) = detector.decode_detections(classes, boxes, geometry=geometry, score_threshold=0.95)
    assert len(none.boxes) == 0


def test_non_max_suppression_matches_tensorflow(tensorflow_backend):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for _ in range(20):
        corners = rng.uniform(0, 40, size=(30, 2))
        boxes = np.concatenate([corners, corners + rng.uniform(2, 20, size=(30, 2))], axis=1).astype(np.float32)
        scores = np.round(rng.random(30), 1).astype(np.float32)  # ties included
        ours = metrics.non_max_suppression(boxes, scores, iou_threshold=0.3, max_output_size=12)
        theirs = tf.image.non_max_suppression(boxes, scores, max_output_size=12, iou_threshold=0.3).numpy()
        np.testing.assert_array_equal(ours, theirs)


def test_box_iou():
    iou = metrics.box_iou([[0, 0, 10, 10], [0, 0, 0, 0]], [[0, 0, 10, 10], [5, 5, 15, 15], [20, 20, 30, 30]])
    np.testing.assert_allclose(iou, [[1.0, 25 / 175, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="bottom >= top"):
        metrics.box_iou([[10, 0, 0, 10]], [[0, 0, 1, 1]])


def test_evaluate_detections_counts_hits_and_false_positives():
    truth = types.SimpleNamespace(
        boxes=[np.array([[0, 0, 20, 10], [0, 30, 20, 40]], dtype=np.float32), np.zeros((0, 4), dtype=np.float32)],
        labels=[np.array([1, 2]), np.array([], dtype=np.int64)],
    )

    def found(boxes, labels, scores):
        return types.SimpleNamespace(boxes=np.array(boxes, dtype=np.float32).reshape(-1, 4), labels=np.array(labels), scores=np.array(scores))

    detections = [
        # a hit, a duplicate of it (false positive), a right box with the wrong class (false positive)
        found([[1, 0, 21, 10], [0, 1, 20, 11], [0, 30, 20, 40]], [1, 1, 5], [0.9, 0.8, 0.7]),
        found([[5, 5, 25, 15]], [4], [0.6]),  # a detection on an empty canvas
    ]
    score = metrics.evaluate_detections(detections, truth)
    assert (score.found, score.total, score.false_positives, score.images) == (1, 2, 3, 2)
    assert score.recall == 0.5 and score.false_positives_per_image == 1.5
    located = metrics.evaluate_detections(detections, truth, match_class=False)
    assert (located.found, located.false_positives) == (2, 2)
    with pytest.raises(ValueError, match="one entry per image"):
        metrics.evaluate_detections(detections[:1], truth)


def _found(boxes, labels, scores):
    return types.SimpleNamespace(boxes=np.array(boxes, dtype=np.float32).reshape(-1, 4), labels=np.array(labels),
                                 scores=np.array(scores, dtype=np.float32))


def test_average_precision_on_hand_ranked_cases():
    truth = types.SimpleNamespace(
        boxes=[np.array([[0, 0, 10, 10], [0, 20, 10, 30]], np.float32), np.array([[0, 0, 10, 10]], np.float32)],
        labels=[np.array([0, 1]), np.array([0])],
    )
    perfect = [_found([[0, 0, 10, 10], [0, 20, 10, 30]], [0, 1], [0.9, 0.8]), _found([[0, 0, 10, 10]], [0], [0.7])]
    result = metrics.average_precision(perfect, truth, num_classes=2)
    assert result.mean_ap == 1.0 and result.per_class.tolist() == [1.0, 1.0]
    assert result.recall.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0]) and result.scores.tolist() == pytest.approx(
        [0.9, 0.8, 0.7])
    # class 0: a false positive ranked first (score 0.95, on image 1 but in the wrong place), then the two hits:
    # precision 0, 1/2, 2/3 at recall 0, 1/2, 1 -> envelope 2/3 everywhere -> AP 2/3; class 1 missed -> AP 0
    ranked = [_found([[0, 0, 10, 10]], [0], [0.9]), _found([[30, 30, 40, 40], [0, 0, 10, 10]], [0, 0], [0.95, 0.5])]
    result = metrics.average_precision(ranked, truth, num_classes=2)
    assert result.per_class == pytest.approx([2 / 3, 0.0]) and result.mean_ap == pytest.approx(1 / 3)
    # a duplicate of a found object is a miss; a class with no objects is left out of the mean
    twice = [_found([[0, 0, 10, 10], [0, 0, 10, 10]], [0, 0], [0.9, 0.8]), _found([], [], [])]
    only_zero = types.SimpleNamespace(boxes=[np.array([[0, 0, 10, 10]], np.float32), np.zeros((0, 4), np.float32)],
                                      labels=[np.array([0]), np.array([], np.int64)])
    result = metrics.average_precision(twice, only_zero, num_classes=3)
    assert result.per_class[0] == 1.0 and np.isnan(result.per_class[1:]).all() and result.mean_ap == 1.0
    assert result.precision.tolist() == [1.0, 0.5]
    # the IoU threshold decides: a box shifted by 4 pixels has IoU 6/14
    shifted = [_found([[0, 4, 10, 14]], [0], [0.9]), _found([], [], [])]
    assert metrics.average_precision(shifted, only_zero, num_classes=1).mean_ap == 0.0
    assert metrics.average_precision(shifted, only_zero, iou_threshold=0.4, num_classes=1).mean_ap == 1.0


def test_average_precision_agrees_with_evaluate_detections_at_the_end_of_its_curve():
    rng = np.random.default_rng(0)
    corners = [rng.integers(0, 40, (3, 2)).astype(np.float32) for _ in range(6)]
    boxes = [np.concatenate([corner, corner + 12], axis=1) for corner in corners]
    truth = types.SimpleNamespace(boxes=boxes, labels=[rng.integers(0, 3, 3) for _ in range(6)])
    found = [_found(b + rng.integers(-2, 3, b.shape), rng.integers(0, 3, 3), rng.random(3)) for b in boxes]
    curve = metrics.average_precision(found, truth, num_classes=3)
    counted = metrics.evaluate_detections(found, truth)
    assert curve.recall[-1] == pytest.approx(counted.recall)
    assert len(curve.scores) * (1 - curve.precision[-1]) == pytest.approx(counted.false_positives)


def test_average_precision_errors():
    truth = types.SimpleNamespace(boxes=[np.zeros((1, 4), np.float32)], labels=[np.array([12])])
    with pytest.raises(ValueError, match="labels outside 0..9; received up to 12"):
        metrics.average_precision([_found([], [], [])], truth)
    with pytest.raises(ValueError, match="one entry per image"):
        metrics.average_precision([], truth)
    with pytest.raises(TypeError, match="must be a list with one Detections per image"):
        metrics.average_precision("boxes", truth)
