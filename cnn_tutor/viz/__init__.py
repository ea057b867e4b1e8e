"""Figures for the book: image grids, filters, feature maps, diagrams, code listings.

Every ``plot_*`` / ``show_*`` function returns a :class:`matplotlib.figure.Figure`
made without ``pyplot``, so a notebook displays it once, as the value of the
cell, and scripts can save it.  :func:`code_listing` returns the package's own
source, highlighted, for a chapter to show.

Conventions: filters and kernels are drawn with negative weights red and
positive blue on a scale centred on zero (:func:`plot_kernels`,
:func:`plot_filters`); ``size`` is the size of one panel in inches and
``figsize`` the width and height of the whole figure, as in matplotlib.
"""

from cnn_tutor.viz.animation import animation_html
from cnn_tutor.viz.arithmetic import animate_conv_arithmetic, plot_conv_arithmetic, plot_kernels, plot_multichannel_conv, plot_timings
from cnn_tutor.viz.images import show_images
from cnn_tutor.viz.listing import CodeListing, code_listing
from cnn_tutor.viz.generation import plot_gan_losses, plot_latent_map, plot_sample_evolution
from cnn_tutor.viz.models import (
    plot_class_map,
    plot_confusion_matrix,
    plot_feature_maps,
    plot_filters,
    plot_learning_curves,
    plot_precision_recall,
    show_detections,
)
from cnn_tutor.viz.restoration import plot_rate_distortion

__all__ = [
    "animation_html",
    "CodeListing",
    "code_listing",
    "plot_gan_losses",
    "plot_latent_map",
    "plot_sample_evolution",
    "show_images",
    "animate_conv_arithmetic",
    "plot_conv_arithmetic",
    "plot_kernels",
    "plot_multichannel_conv",
    "plot_timings",
    "plot_class_map",
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_learning_curves",
    "plot_precision_recall",
    "show_detections",
    "plot_rate_distortion",
]
