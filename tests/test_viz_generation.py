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
