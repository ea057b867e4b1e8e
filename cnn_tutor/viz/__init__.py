"""Figures for the book: image grids, filters, feature maps, diagrams.

Every ``plot_*`` / ``show_*`` function returns a :class:`matplotlib.figure.Figure`
made without ``pyplot``, so a notebook displays it once, as the value of the
cell, and scripts can save it.
"""

from cnn_tutor.viz.images import show_images

__all__ = ["show_images"]
