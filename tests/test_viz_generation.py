"""Smoke tests of cnn_tutor.viz.generation on the Agg backend."""

import numpy as np
import pytest

from cnn_tutor.viz import generation

HISTORY = {"d_loss": [1.0], "g_loss": [1.0], "d_real": [0.5], "d_fake": [0.5]}


def test_plots_return_figures():
    grids = {1: np.zeros((4, 8, 8, 1)), 5: np.ones((4, 8, 8, 1))}
    assert len(generation.plot_sample_evolution(grids, epochs=[5], num_images=4).axes) == 4
    assert len(generation.plot_latent_map(np.zeros((4, 8, 8, 1)), np.array([0.0, 1.0])).axes) == 1
    assert len(generation.plot_gan_losses(HISTORY).axes) == 2
    fig = generation.plot_gan_losses(HISTORY, scores={5: 0.5, 10: 0.6}, target=0.75)
    assert len(fig.axes) == 3
    assert list(fig.axes[2].lines[0].get_ydata()) == [0.5, 0.6]


def test_latent_map_puts_each_image_at_its_code():
    # 3x3 grid, row by row from the top (largest z1), as vae.latent_grid makes it; image k is filled with k.
    images = np.stack([np.full((2, 2, 1), k / 8) for k in range(9)])
    axis = np.array([-1.0, 0.0, 1.0])
    fig = generation.plot_latent_map(images, axis)
    canvas = fig.axes[0].images[0].get_array()
    expected = np.kron(np.arange(9).reshape(3, 3) / 8, np.ones((2, 2)))  # columns: z0 left to right
    np.testing.assert_allclose(canvas, expected)
    assert fig.axes[0].images[0].get_extent() == [-1.5, 1.5, -1.5, 1.5]  # image centres on the ticks


def test_sample_evolution_rows_are_epochs():
    grids = {1: np.zeros((3, 4, 4, 1)), 2: np.full((3, 4, 4, 1), 0.5)}
    fig = generation.plot_sample_evolution(grids, num_images=3)
    np.testing.assert_array_equal(fig.axes[3].images[0].get_array(), grids[2][0, ..., 0])
    assert fig.axes[3].get_ylabel() == "epoch 2"


def test_errors():
    with pytest.raises(ValueError, match="not in `grids`"):
        generation.plot_sample_evolution({1: np.zeros((2, 8, 8, 1))}, epochs=[3])
    with pytest.raises(ValueError, match="len\\(axis\\)\\*\\*2"):
        generation.plot_latent_map(np.zeros((3, 8, 8, 1)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="d_loss"):
        generation.plot_gan_losses({})
    with pytest.raises(ValueError, match="`scores` must be a non-empty dict"):
        generation.plot_gan_losses(HISTORY, scores={})
    with pytest.raises(ValueError, match="`target` needs `scores`"):
        generation.plot_gan_losses(HISTORY, target=0.75)
