"""Figures of the Reconstruction chapter: rate-distortion curves."""

import matplotlib.figure
import numpy as np

from cnn_tutor import _validation

__all__ = ["plot_rate_distortion"]


def plot_rate_distortion(curves, *, xlabel="bits per pixel", ylabel="PSNR (dB)", title=None, figsize=(5.0, 3.4)):
    """Plot quality against rate for several codecs, one line with markers per codec.

    Parameters
    ----------
    curves : dict
        ``{name: (rates, qualities)}``; each curve's points are sorted by rate.
    xlabel, ylabel, title : str
        Axis labels and an optional title (ASCII).
    figsize : (float, float)
        Width and height of the figure in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_rate_distortion({"JPEG": ([0.5, 1.0], [20.0, 24.0]), "AE": ([0.3], [21.0])})
    >>> len(fig.axes[0].lines)
    2
    >>> plot_rate_distortion({"JPEG": ([0.5, 1.0], [20.0])})
    Traceback (most recent call last):
    ...
    ValueError: `curves['JPEG']` must hold as many rates as qualities; received 2 and 1.
    """
    if not isinstance(curves, dict) or not curves:
        raise ValueError("`curves` must be a non-empty dict {name: (rates, qualities)}.")
    fig = matplotlib.figure.Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    markers = "osD^v<>"
    for index, (name, pair) in enumerate(curves.items()):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"`curves[{name!r}]` must be a pair (rates, qualities); received {pair!r}.")
        rates = _validation.as_float_array(f"curves[{name!r}] rates", pair[0]).ravel()
        quality = _validation.as_float_array(f"curves[{name!r}] qualities", pair[1]).ravel()
        if rates.shape != quality.shape:
            raise ValueError(
                f"`curves[{name!r}]` must hold as many rates as qualities; received {rates.size} and {quality.size}."
            )
        order = np.argsort(rates)
        ax.plot(rates[order], quality[order], marker=markers[index % len(markers)], label=str(name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig
