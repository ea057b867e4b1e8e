"""Tests for cnn_tutor.data.patches."""

import numpy as np
import pytest

from cnn_tutor import data


def test_patches_are_crops_and_repeat_with_the_seed():
    image = np.arange(20 * 30, dtype=np.float32).reshape(20, 30, 1) / 600
    patches = data.extract_patches([image], 5, patches_per_image=4, rng=3)
    assert patches.shape == (4, 5, 5, 1) and patches.dtype == np.float32
    for patch in patches:
        top, left = divmod(int(round(patch[0, 0, 0] * 600)), 30)
        np.testing.assert_array_equal(patch, image[top : top + 5, left : left + 5])
    np.testing.assert_array_equal(patches, data.extract_patches([image], 5, patches_per_image=4, rng=3))
    assert data.extract_patches(np.zeros((2, 8, 8, 1)), 4, patches_per_image=3).shape == (6, 4, 4, 1)


@pytest.mark.parametrize(
    "images, size, error, match",
    [
        ([np.zeros((8, 8, 1))], 9, ValueError, r"`patch_size` \(9\) must fit inside every image; images\[0\] is 8x8"),
        ([np.zeros((8, 8, 1)), np.zeros((8, 8, 3))], 4, ValueError, r"same number of channels"),
        ([], 4, ValueError, r"non-empty list"),
        ([np.full((8, 8, 1), 2.0)], 4, ValueError, r"values in \[0.0, 1.0\]"),
        ([np.zeros((8, 8, 1))], 0, ValueError, r"`patch_size` must be >= 1"),
    ],
)
def test_extract_patches_errors(images, size, error, match):
    with pytest.raises(error, match=match):
        data.extract_patches(images, size)


def test_patch_split_holds_the_test_image_out():
    split = data.make_patch_split(("coins", "moon"), "camera", patch_size=16, patches_per_image=3, multiple_of=3)
    assert split.patches.shape == (6, 16, 16, 1)
    assert split.test_image.shape == (1, 510, 510, 1) and split.test_name == "camera"
    np.testing.assert_array_equal(split.test_image[0], data.load_image("camera")[:510, :510])
    with pytest.raises(ValueError, match=r"`test_name` 'camera' must not be one of `train_names`"):
        data.make_patch_split(("camera",), "camera")
    with pytest.raises(ValueError, match=r"`test_name` must be one of .*received .lena."):
        data.make_patch_split(("coins",), "lena")
