"""Smoke tests of cnn_tutor.viz.show_images on the Agg backend."""

import matplotlib.figure
import numpy as np
import pytest

from cnn_tutor import viz


@pytest.mark.parametrize("shape", [(5, 8, 8), (5, 8, 8, 1), (5, 8, 12, 3)])
def test_show_images_accepts_batches(shape):
    fig = viz.show_images(np.random.default_rng(0).random(shape), ncols=3, suptitle="grid")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 6  # 2 rows x 3 columns, one empty
    fig.canvas.draw()


def test_show_images_draws_each_image_on_the_given_range():
    images = np.random.default_rng(0).random((3, 5, 6, 1))
    fig = viz.show_images(images, ncols=2)
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), images[2, ..., 0])  # row 2, column 1
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0) and not fig.axes[3].images
    stretched = viz.show_images(images * 0.5, value_range=None)
    assert stretched.axes[0].images[0].get_clim() == (images[0].min() * 0.5, images[0].max() * 0.5)


def test_show_images_accepts_a_list_of_sizes_and_titles():
    fig = viz.show_images([np.zeros((8, 8)), np.ones((16, 4, 1)), np.zeros((3, 3, 3))], titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("images", "kwargs", "message"),
    [
        (np.zeros((8, 8)), {}, r"`images` must be a batch .* received shape \(8, 8\)"),
        (np.zeros((2, 8, 8, 2)), {}, r"`images\[0\]` must have shape .* received shape \(8, 8, 2\)"),
        ([], {}, "at least one image"),
        (np.zeros((2, 8, 8)), {"titles": ["only one"]}, r"`titles` must have one entry per image \(2\); received 1"),
    ],
)
def test_show_images_errors(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.show_images(images, **kwargs)
