"""Tests of cnn_tutor.data.detection: synthetic detection canvases with boxes."""

import numpy as np
import pytest

from cnn_tutor.data import detection


@pytest.fixture
def digits():
    """Five fake 28x28 'digits': bright rectangles of different sizes, labels 0-4."""
    images = np.zeros((5, 28, 28, 1), dtype=np.float32)
    for index in range(5):
        images[index, 4 : 24 - index, 8 : 14 + index] = 0.2 + 0.15 * index
    return images, np.arange(5)


def test_ink_box_is_tight():
    image = np.zeros((10, 10, 1))
    image[2:5, 3:9] = 0.5
    image[7, 1] = 0.05  # below the threshold: not ink
    assert detection.ink_box(image).tolist() == [2.0, 3.0, 5.0, 9.0]
    assert detection.ink_box(image, ink_threshold=0.01).tolist() == [2.0, 1.0, 8.0, 9.0]


@pytest.mark.parametrize("canvas_size", [28, 48, 64, 96])
def test_canvases_hold_the_digits_in_their_boxes(digits, canvas_size):
    images, labels = digits
    data = detection.make_detection_set(images, labels, num_canvases=6, canvas_size=canvas_size, seed=3)
    assert data.images.shape == (6, canvas_size, canvas_size, 1)
    assert data.images.dtype == np.float32
    assert 0.0 <= data.images.min() and data.images.max() <= 1.0
    for canvas, boxes, classes in zip(data.images, data.boxes, data.labels):
        assert boxes.shape == (len(classes), 4) and boxes.dtype == np.float32
        ink = canvas[..., 0] > 0.1
        covered = np.zeros_like(ink)
        for (top, left, bottom, right), label in zip(boxes.astype(int), classes):
            assert 0 <= top < bottom <= canvas_size and 0 <= left < right <= canvas_size
            # The box is tight: its border rows and columns contain ink.
            assert ink[top, left:right].any() and ink[bottom - 1, left:right].any()
            assert ink[top:bottom, left].any() and ink[top:bottom, right - 1].any()
            # The pasted digit is the one the label names (brightness encodes the label here).
            assert canvas[top:bottom, left:right].max() == pytest.approx(0.2 + 0.15 * label)
            covered[top:bottom, left:right] = True
        assert not (ink & ~covered).any()  # no ink outside the boxes


def test_boxes_keep_the_gap(digits):
    images, labels = digits
    data = detection.make_detection_set(images, labels, num_canvases=20, canvas_size=64, digits_per_canvas=(3, 3), gap=2, seed=0)
    for boxes in data.boxes:
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                apart = a[2] + 2 <= b[0] or b[2] + 2 <= a[0] or a[3] + 2 <= b[1] or b[3] + 2 <= a[1]
                assert apart


def test_same_seed_same_set_other_seed_other_set(digits):
    images, labels = digits
    one = detection.make_detection_set(images, labels, num_canvases=4, seed=7)
    two = detection.make_detection_set(images, labels, num_canvases=4, seed=7)
    three = detection.make_detection_set(images, labels, num_canvases=4, seed=8)
    assert np.array_equal(one.images, two.images)
    assert all(np.array_equal(a, b) for a, b in zip(one.boxes, two.boxes))
    assert not np.array_equal(one.images, three.images)


def test_digits_per_canvas_and_num_objects(digits):
    images, labels = digits
    data = detection.make_detection_set(images, labels, num_canvases=30, canvas_size=96, digits_per_canvas=(1, 3), seed=1)
    counts = [len(b) for b in data.boxes]
    assert set(counts) <= {1, 2, 3} and len(set(counts)) > 1
    assert data.num_objects == sum(counts)


def test_each_digit_once_uses_no_digit_twice_and_refuses_to_run_out(digits):
    images, labels = digits
    data = detection.make_detection_set(images, labels, num_canvases=5, canvas_size=96, digits_per_canvas=(1, 1),
                                        seed=3, each_digit_once=True)
    assert sorted(int(label) for labels_here in data.labels for label in labels_here) == [0, 1, 2, 3, 4]
    # the default draws with replacement: the same seed repeats digits
    repeated = detection.make_detection_set(images, labels, num_canvases=5, canvas_size=96, digits_per_canvas=(1, 1),
                                            seed=3)
    assert len({int(label) for labels_here in repeated.labels for label in labels_here}) < 5
    with pytest.raises(ValueError, match="needs more digits than the 5 given"):
        detection.make_detection_set(images, labels, num_canvases=3, canvas_size=96, digits_per_canvas=(2, 2),
                                     each_digit_once=True)


def test_a_crowded_canvas_gets_fewer_digits_never_overlapping(digits):
    images, labels = digits
    data = detection.make_detection_set(images, labels, num_canvases=3, canvas_size=28, digits_per_canvas=(3, 3), seed=0)
    assert all(len(b) == 1 for b in data.boxes)


def test_detection_set_errors(digits):
    images, labels = digits
    with pytest.raises(ValueError, match="at least the digit size"):
        detection.make_detection_set(images, labels, num_canvases=1, canvas_size=20)
    with pytest.raises(ValueError, match=r"`labels` must lie in \[0, 9\]"):
        detection.make_detection_set(images, labels + 8, num_canvases=1)
    with pytest.raises(ValueError, match="one label per image"):
        detection.make_detection_set(images, labels[:3], num_canvases=1)
    with pytest.raises(ValueError, match="1 channel"):
        detection.make_detection_set(np.repeat(images, 3, axis=-1), labels, num_canvases=1)
    with pytest.raises(ValueError, match="digits_per_canvas"):
        detection.make_detection_set(images, labels, num_canvases=1, digits_per_canvas=(3, 1))
    with pytest.raises(ValueError, match="no pixel brighter"):
        detection.ink_box(np.zeros((5, 5)))
    with pytest.raises(TypeError, match="num_canvases"):
        detection.make_detection_set(images, labels, num_canvases=2.5)
