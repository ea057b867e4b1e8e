"""Smoke tests for cnn_tutor.viz.restoration."""

import matplotlib.figure
import pytest

from cnn_tutor import viz


def test_plot_rate_distortion_draws_one_line_per_codec():
    fig = viz.plot_rate_distortion({"JPEG": ([0.5, 1.0, 0.7], [20, 24, 22]), "AE": ([0.3, 0.6], [21, 23])}, title="t")
    assert isinstance(fig, matplotlib.figure.Figure)
    lines = fig.axes[0].lines
    assert len(lines) == 2 and list(lines[0].get_xdata()) == [0.5, 0.7, 1.0]


def test_plot_rate_distortion_errors():
    with pytest.raises(ValueError, match=r"non-empty dict"):
        viz.plot_rate_distortion({})
    with pytest.raises(ValueError, match=r"must be a pair"):
        viz.plot_rate_distortion({"a": [1, 2, 3]})
