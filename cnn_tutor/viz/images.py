"""Image grids: the most common figure of the book."""

import math

import matplotlib.figure
import numpy as np

from cnn_tutor import _validation

__all__ = ["show_images"]


def _as_panels(images):
    """Return a list of 2-D (grey) or (h, w, 3) (colour) float arrays."""
    if isinstance(images, (list, tuple)):
        items = list(images)
    else:
        array = _validation.as_float_array("images", images)
        if array.ndim not in (3, 4):
            raise ValueError(
                "`images` must be a batch of shape (n, height, width), (n, height, width, 1) or "
                f"(n, height, width, 3), or a list of images; received shape {array.shape}."
            )
        items = list(array)
    if not items:
        raise ValueError("`images` must contain at least one image; received an empty batch.")
    panels = []
    for index, item in enumerate(items):
        panel = _validation.as_float_array(f"images[{index}]", item)
        if panel.ndim == 3 and panel.shape[-1] == 1:
            panel = panel[..., 0]
        if panel.ndim != 2 and not (panel.ndim == 3 and panel.shape[-1] == 3):
            raise ValueError(
                f"`images[{index}]` must have shape (height, width), (height, width, 1) or "
                f"(height, width, 3); received shape {panel.shape}."
            )
        panels.append(panel)
    return panels


def show_images(images, titles=None, *, ncols=None, cmap="gray", size=1.6, suptitle=None, value_range=(0.0, 1.0)):
    """Show a batch of images in a grid.

    Parameters
    ----------
    images : array_like or list of array_like
        A batch ``(n, height, width)``, ``(n, height, width, 1)`` or
        ``(n, height, width, 3)``, or a list of images of any sizes.
    titles : list of str, optional
        One title per image.
    ncols : int, optional
        Columns of the grid (default: all images in one row, at most 8).
    cmap : str
        Colour map for one-channel images.
    size : float
        Inches per image.
    suptitle : str, optional
        A title over the grid.
    value_range : (float, float) or None
        Display range for one-channel images; ``None`` stretches each image.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = show_images(np.zeros((3, 8, 8, 1)), titles=["a", "b", "c"])
    >>> len(fig.axes)
    3
    """
    panels = _as_panels(images)
    count = len(panels)
    if titles is not None and len(titles) != count:
        raise ValueError(f"`titles` must have one entry per image ({count}); received {len(titles)}.")
    ncols = min(count, 8) if ncols is None else _validation.check_int("ncols", ncols, minimum=1)
    nrows = math.ceil(count / ncols)
    height = max(panel.shape[0] for panel in panels)
    width = max(panel.shape[1] for panel in panels)
    scale = size / max(height, width)
    title_space = 0.3 if titles is not None else 0.0
    fig = matplotlib.figure.Figure(
        figsize=(ncols * width * scale, nrows * (height * scale + title_space) + (0.4 if suptitle else 0.0)),
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    vmin, vmax = value_range if value_range is not None else (None, None)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= count:
            continue
        panel = panels[index]
        if panel.ndim == 2:
            ax.imshow(panel, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        else:
            ax.imshow(np.clip(panel, 0.0, 1.0), interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
