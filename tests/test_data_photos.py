"""Tests of cnn_tutor.data.photos: the documented split of skimage's shipped photographs."""

import numpy as np
import pytest
import skimage.data

from cnn_tutor.data import photos


def test_split_has_six_grey_and_colour_test_photographs_and_no_overlap():
    split = photos.PHOTO_SPLIT
    test, train = set(split["test"]), set(split["train"])
    assert len(test) >= 6 and not test & train
    assert not set(split["excluded"]) & (test | train)
    dims = {name: getattr(skimage.data, name)().ndim for name in test}
    assert set(dims.values()) == {2, 3}  # grey and colour


def test_cat_is_excluded_because_it_is_the_test_image_chelsea():
    assert np.array_equal(skimage.data.cat(), skimage.data.chelsea())
    assert "cat" in photos.PHOTO_SPLIT["excluded"] and "chelsea" in photos.PHOTO_SPLIT["test"]


def test_validation_rows_are_the_bottom_of_the_training_photographs():
    split = photos.load_photo_split(validation_fraction=0.25)
    for name, top, bottom in zip(split.train_names, split.train, split.validation):
        whole = photos.load_photo(name)
        np.testing.assert_array_equal(np.concatenate([top, bottom]), whole)
        assert bottom.shape[0] == int(round(0.25 * whole.shape[0]))


def test_luma_uses_bt601_weights_and_photos_keep_8_bit_levels():
    rgb = np.array([[[0.2, 0.4, 0.6]]])
    assert photos.luma(rgb)[0, 0, 0] == pytest.approx(0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6)
    image = photos.load_photo("astronaut")
    np.testing.assert_allclose(image * 255, np.round(image * 255), atol=1e-4)
    expected = np.round(skimage.data.astronaut().astype(float) @ [0.299, 0.587, 0.114]) / 255
    np.testing.assert_allclose(image[..., 0], expected, atol=1 / 255 + 1e-6)  # ties may round either way


def test_describe_split_names_every_photograph_with_its_reason():
    text = photos.describe_split()
    for role in ("test", "train", "excluded"):
        for name, reason in photos.PHOTO_SPLIT[role].items():
            assert name in text and reason in text


def test_bad_arguments():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        photos.load_photo_split(validation_fraction=1.0)
    with pytest.raises(ValueError, match="`name` must be a photograph"):
        photos.load_photo("cat")
    with pytest.raises(TypeError, match="PhotoSplit"):
        photos.describe_split("split")
