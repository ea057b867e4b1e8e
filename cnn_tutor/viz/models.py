"""Figures that look inside trained models: filters, feature maps, confusion matrix, boxes, curves.

Used by the Keras models chapter.  Every function returns a
:class:`matplotlib.figure.Figure` built without ``pyplot``.
"""

import math

import matplotlib.figure
import matplotlib.patches
import numpy as np

from cnn_tutor import _validation
from cnn_tutor.viz import _style

__all__ = [
    "plot_class_map",
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_learning_curves",
    "plot_precision_recall",
    "show_detections",
]


def plot_filters(kernels, *, titles=None, ncols=8, size=0.9, input_channel=0):
    """Show convolution filters as small images, on one colour scale centred on zero.

    Negative weights are red and positive blue, as in every filter plot of
    the book (:func:`cnn_tutor.viz.plot_kernels` too); one colour bar serves
    all the filters.

    Parameters
    ----------
    kernels : array_like
        A Keras kernel ``(kh, kw, in_channels, out_channels)`` (one filter per
        output channel, its slice on ``input_channel``) or a stack ``(n, kh, kw)``.
    titles : list of str, optional
        One title per filter.
    ncols : int
        Filters per row.
    size : float
        Inches per filter.
    input_channel : int
        For a Keras kernel, which input channel's slice to show.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_filters(np.random.default_rng(0).normal(size=(3, 3, 1, 4)))
    >>> len(fig.axes)  # four filters and a colour bar
    5
    """
    array = _validation.as_float_array("kernels", kernels)
    if array.ndim == 4:
        input_channel = _validation.check_int("input_channel", input_channel, minimum=0)
        if input_channel >= array.shape[2]:
            raise ValueError(
                f"`input_channel` must be below the kernel's {array.shape[2]} input channel(s); received {input_channel}."
            )
        array = np.moveaxis(array[:, :, input_channel, :], -1, 0)  # (out_channels, kh, kw)
    if array.ndim != 3 or len(array) == 0:
        raise ValueError(
            "`kernels` must be a Keras kernel (kh, kw, in_channels, out_channels) or a stack (n, kh, kw); "
            f"received shape {np.shape(kernels)}."
        )
    count = len(array)
    if titles is not None and len(titles) != count:
        raise ValueError(f"`titles` must have one entry per filter ({count}); received {len(titles)}.")
    ncols = min(_validation.check_int("ncols", ncols, minimum=1), count)
    nrows = math.ceil(count / ncols)
    limit = _style.symmetric_limit(array)
    fig = matplotlib.figure.Figure(
        figsize=(ncols * size + 0.8, nrows * (size + (0.25 if titles else 0.05))), layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    image = None
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index < count:
            image = ax.imshow(array[index], cmap=_style.FILTER_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[index], fontsize=7)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    return fig


def plot_feature_maps(maps, *, max_channels=8, size=1.0, cmap="viridis"):
    """Show the first channels of each layer's activations, one row per layer.

    Parameters
    ----------
    maps : dict
        Layer name -> ``(height, width, channels)`` activations, as returned by
        :func:`cnn_tutor.models.classifier.feature_maps`.
    max_channels : int
        Channels shown per layer.
    size : float
        Inches per map.
    cmap : str
        Colour map (each map is scaled to its own range).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_feature_maps({"conv1": np.ones((6, 6, 3)), "pool1": np.ones((3, 3, 3))}, max_channels=2)
    >>> len(fig.axes)
    4
    """
    if not isinstance(maps, dict) or not maps:
        raise TypeError(f"`maps` must be a non-empty dict of layer name -> (h, w, c) arrays; received {type(maps).__name__}.")
    max_channels = _validation.check_int("max_channels", max_channels, minimum=1)
    arrays = {}
    for name, value in maps.items():
        array = _validation.as_float_array(f"maps[{name!r}]", value)
        if array.ndim != 3:
            raise ValueError(f"`maps[{name!r}]` must be (height, width, channels); received shape {array.shape}.")
        arrays[name] = array
    ncols = min(max_channels, max(a.shape[-1] for a in arrays.values()))
    fig = matplotlib.figure.Figure(figsize=(ncols * size + 1.2, len(arrays) * size * 1.05), layout="constrained")
    axes = fig.subplots(len(arrays), ncols, squeeze=False)
    for row, (name, array) in enumerate(arrays.items()):
        for col in range(ncols):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col < array.shape[-1]:
                ax.imshow(array[..., col], cmap=cmap, interpolation="nearest")
            else:
                ax.set_axis_off()
        height, width, channels = array.shape
        axes[row, 0].set_ylabel(f"{name}\n{height}x{width}x{channels}", fontsize=8)
    return fig


def plot_confusion_matrix(matrix, *, class_names=None, figsize=(4.5, 4.5), cmap="Blues"):
    """Show a confusion matrix with its counts; rows are true classes, columns predictions.

    Parameters
    ----------
    matrix : array_like
        ``(k, k)`` counts, e.g. from :func:`cnn_tutor.metrics.confusion_matrix`.
    class_names : list of str, optional
        Axis labels (default ``0 .. k-1``).
    figsize : (float, float)
        Width and height of the figure in inches.
    cmap : str
        Colour map (on a logarithmic scale, so that small off-diagonal counts show).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_confusion_matrix([[5, 1], [0, 4]])
    >>> fig.axes[0].get_xlabel()
    'predicted class'
    """
    import matplotlib.colors

    array = _validation.as_float_array("matrix", matrix)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"`matrix` must be square (k, k); received shape {array.shape}.")
    if np.any(array < 0):
        raise ValueError("`matrix` must hold counts (>= 0); received negative values.")
    count = len(array)
    names = [str(i) for i in range(count)] if class_names is None else [str(n) for n in class_names]
    if len(names) != count:
        raise ValueError(f"`class_names` must have {count} entries; received {len(names)}.")
    fig = matplotlib.figure.Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    norm = matplotlib.colors.LogNorm(vmin=1, vmax=max(float(array.max()), 1.0))
    ax.imshow(np.where(array > 0, array, np.nan), cmap=cmap, norm=norm)
    threshold = math.sqrt(max(float(array.max()), 1.0))
    for i in range(count):
        for j in range(count):
            if array[i, j] > 0:
                colour = "white" if array[i, j] > threshold else "black"
                ax.text(j, i, f"{array[i, j]:g}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(count), names)
    ax.set_yticks(range(count), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return fig


def plot_learning_curves(histories, *, metrics=("loss", "accuracy"), figsize=None):
    """Training and validation curves per epoch, one panel per metric, one colour per run.

    Parameters
    ----------
    histories : dict
        ``{name: history}``, each a ``fit`` history dict with ``metric`` and
        ``val_metric`` lists (the training value is Keras's running mean over
        the epoch; the validation value is measured after it).
    metrics : sequence of str
        The metrics to plot, one panel each.
    figsize : (float, float), optional
        Width and height in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_learning_curves({"run": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7],
    ...                                     "accuracy": [0.5, 0.8], "val_accuracy": [0.5, 0.7]}})
    >>> [ax.get_ylabel() for ax in fig.axes], len(fig.axes[0].lines)
    (['loss', 'accuracy'], 2)
    """
    if not isinstance(histories, dict) or not histories:
        raise TypeError(f"`histories` must be a non-empty dict {{name: history}}; received {histories!r}.")
    metrics = [str(metric) for metric in metrics]
    for name, history in histories.items():
        for metric in metrics:
            for key in (metric, f"val_{metric}"):
                if key not in history:
                    raise ValueError(
                        f"`histories[{name!r}]` must have {key!r} (train with validation data); it has {sorted(history)}."
                    )
    fig = matplotlib.figure.Figure(figsize=figsize or (4.2 * len(metrics), 3.2), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    colours = [f"C{i}" for i in range(len(histories))]
    for ax, metric in zip(axes, metrics):
        for colour, (name, history) in zip(colours, histories.items()):
            epochs = np.arange(1, len(history[metric]) + 1)
            ax.plot(epochs, history[metric], color=colour, linestyle="--", label=f"{name}, training")
            ax.plot(epochs, history[f"val_{metric}"], color=colour, label=f"{name}, validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return fig


def plot_precision_recall(curves, *, figsize=(4.2, 3.4)):
    """Precision against recall for one or more detectors or test sets.

    Parameters
    ----------
    curves : dict
        ``{name: PrecisionRecall}`` from :func:`cnn_tutor.metrics.average_precision`
        (its pooled ``precision`` and ``recall``; the legend gives its mean AP).
    figsize : (float, float)
        Width and height in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import types
    >>> curve = types.SimpleNamespace(precision=np.array([1.0, 0.5]), recall=np.array([0.5, 0.5]), mean_ap=0.5)
    >>> plot_precision_recall({"test": curve}).axes[0].get_xlabel()
    'recall'
    """
    if not isinstance(curves, dict) or not curves:
        raise TypeError(f"`curves` must be a non-empty dict {{name: PrecisionRecall}}; received {curves!r}.")
    fig = matplotlib.figure.Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    for name, curve in curves.items():
        if not all(hasattr(curve, key) for key in ("precision", "recall", "mean_ap")):
            raise TypeError(f"`curves[{name!r}]` must be a PrecisionRecall; received {type(curve).__name__}.")
        ax.plot(curve.recall, curve.precision, label=f"{name} (mAP {curve.mean_ap:.3f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    return fig


def _draw_box(ax, box, colour, style, text=None):
    top, left, bottom, right = (float(v) for v in box)
    ax.add_patch(
        matplotlib.patches.Rectangle(
            (left - 0.5, top - 0.5), right - left, bottom - top, fill=False, edgecolor=colour, linewidth=1.3, linestyle=style
        )
    )
    if text:
        ax.text(left - 0.5, top - 1.0, text, color=colour, fontsize=7, va="bottom", ha="left")


def show_detections(images, detections=None, truth=None, *, ncols=4, size=2.2, titles=None):
    """Show canvases with ground-truth boxes (green, dashed) and detections (red, with class and score).

    Parameters
    ----------
    images : array_like
        ``(n, height, width, 1)`` canvases in [0, 1].
    detections : list, optional
        Per image, an object with ``boxes``, ``labels`` and ``scores`` (as
        :func:`cnn_tutor.models.detector.detect` returns).
    truth : DetectionSet or tuple, optional
        The ground truth of the same images.
    ncols : int
        Canvases per row.
    size : float
        Inches per canvas.
    titles : list of str, optional
        One title per canvas.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import types
    >>> found = [types.SimpleNamespace(boxes=np.array([[2, 2, 10, 8]]), labels=np.array([7]), scores=np.array([0.9]))]
    >>> fig = show_detections(np.zeros((1, 16, 16, 1)), found)
    >>> len(fig.axes[0].patches)
    1
    """
    array = _validation.check_images("images", images, channels=1)
    count = len(array)
    if count == 0:
        raise ValueError("`images` must contain at least one canvas; received an empty batch.")
    if detections is not None and len(detections) != count:
        raise ValueError(f"`detections` must have one entry per image ({count}); received {len(detections)}.")
    truth_boxes = truth_labels = None
    if truth is not None:
        truth_boxes, truth_labels = (truth.boxes, truth.labels) if hasattr(truth, "boxes") else truth
        if len(truth_boxes) != count:
            raise ValueError(f"`truth` must have one entry per image ({count}); received {len(truth_boxes)}.")
    if titles is not None and len(titles) != count:
        raise ValueError(f"`titles` must have one entry per image ({count}); received {len(titles)}.")
    ncols = min(_validation.check_int("ncols", ncols, minimum=1), count)
    nrows = math.ceil(count / ncols)
    fig = matplotlib.figure.Figure(figsize=(ncols * size, nrows * size * 1.08), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= count:
            continue
        ax.imshow(array[index, ..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        if truth_boxes is not None:
            for box in np.asarray(truth_boxes[index]).reshape(-1, 4):
                _draw_box(ax, box, "limegreen", "--")
        if detections is not None:
            found = detections[index]
            for box, label, score in zip(np.asarray(found.boxes).reshape(-1, 4), found.labels, found.scores):
                _draw_box(ax, box, "red", "-", f"{int(label)} {float(score):.2f}")
        if titles is not None:
            ax.set_title(titles[index], fontsize=8)
    return fig


def plot_class_map(image, class_map, *, background=None, threshold=0.5, size=2.6):
    """Show a canvas next to the class map a fully convolutional network computes on it.

    Each cell of the map is labelled with its most probable class where that
    probability exceeds ``threshold`` (and the class is not ``background``).

    Parameters
    ----------
    image : array_like
        One canvas ``(height, width)`` or ``(height, width, 1)`` in [0, 1].
    class_map : array_like
        ``(gh, gw, classes)`` probabilities for this canvas.
    background : int, optional
        Index of the background class, if the map has one.
    threshold : float
        Cells whose best probability is below this are left blank.
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> probs = np.zeros((2, 2, 3)); probs[..., 2] = 1; probs[0, 1] = [0.1, 0.9, 0.0]
    >>> fig = plot_class_map(np.zeros((8, 8)), probs, background=2)
    >>> [t.get_text() for t in fig.axes[1].texts]
    ['1']
    """
    canvas = _validation.as_float_array("image", image)
    if canvas.ndim == 3 and canvas.shape[-1] == 1:
        canvas = canvas[..., 0]
    if canvas.ndim != 2:
        raise ValueError(f"`image` must be one grayscale canvas (height, width[, 1]); received shape {np.shape(image)}.")
    probs = _validation.as_float_array("class_map", class_map)
    if probs.ndim != 3:
        raise ValueError(f"`class_map` must be (map_height, map_width, classes); received shape {probs.shape}.")
    threshold = _validation.check_float("threshold", threshold, minimum=0.0, maximum=1.0)
    best = probs.argmax(axis=-1)
    confidence = probs.max(axis=-1)
    shown = confidence > threshold
    if background is not None:
        shown &= best != background
    fig = matplotlib.figure.Figure(figsize=(2 * size + 0.2, size * 1.1), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    left.set_title(f"canvas {canvas.shape[0]}x{canvas.shape[1]}", fontsize=9)
    right.imshow(np.where(shown, confidence, np.nan), cmap="Oranges", vmin=0.0, vmax=1.0, interpolation="nearest")
    for i, j in zip(*np.nonzero(shown)):
        right.text(j, i, str(int(best[i, j])), ha="center", va="center", fontsize=7)
    right.set_title(f"class map {probs.shape[0]}x{probs.shape[1]}", fontsize=9)
    right.set_xlim(-0.5, probs.shape[1] - 0.5)
    right.set_ylim(probs.shape[0] - 0.5, -0.5)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
