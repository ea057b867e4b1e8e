"""Convolution-arithmetic diagrams and animations, filter pictures and timing plots.

The diagrams follow Dumoulin & Visin's *convolution arithmetic* with one
legend for all of them: **blue** cells are input pixels, **white** dashed
cells are padding (or the zeros a transposed convolution inserts), the
**dark outline** is the kernel's footprint (its taps, with holes when it is
dilated), and **green** cells are the output, the one being computed in dark
green.  Input and output are drawn side by side, never stacked, so which is
which is never in doubt.

Used by the Convolution math, Padding and stride and Pooling chapters.
"""

import math

import matplotlib.animation
import matplotlib.backends.backend_agg
import matplotlib.figure
import matplotlib.patches
import numpy as np

from cnn_tutor import _validation, ops, shapes
from cnn_tutor.ops import transposed as _transposed
from cnn_tutor.viz import _style

__all__ = ["animate_conv_arithmetic", "plot_conv_arithmetic", "plot_kernels", "plot_multichannel_conv", "plot_timings"]

_INPUT, _PADDING, _TAP, _OUTPUT, _CURRENT = "#9ecae1", "white", "#08306b", "#c7e9c0", "#238b45"
_GAP = 1.5  # cells between the input grid and the output grid


def _layout(input_size, kernel_size, stride=1, padding="valid", dilation=1, transposed=False):
    """The grid a kernel slides over, along one axis: (is_input mask, step, dilation, kernel, output size)."""
    span = shapes.effective_kernel_size(kernel_size, dilation)
    if not transposed:
        before, after = shapes.padding_amounts(input_size, kernel_size, stride=stride, padding=padding, dilation=dilation)
        output = shapes.conv_output_size(input_size, kernel_size, stride=stride, padding=padding, dilation=dilation)
        mask = np.zeros(before + input_size + after, dtype=bool)
        mask[before : before + input_size] = True
        return mask, stride, dilation, kernel_size, output
    # A transposed convolution is a stride-1 convolution over the input with stride - 1 zeros
    # inserted between its pixels and span - 1 - p_before zeros around it (Dumoulin & Visin, section 4).
    explicit = padding if isinstance(padding, str) else shapes.padding_amounts(input_size, kernel_size, padding=padding)
    output, before = _transposed._transpose_geometry(input_size, kernel_size, stride, explicit, None, dilation)
    mask = np.zeros(output + span - 1, dtype=bool)
    first = span - 1 - before
    positions = first + stride * np.arange(input_size)
    mask[positions[(positions >= 0) & (positions < len(mask))]] = True
    return mask, 1, dilation, kernel_size, output


def _draw_case(ax, case, position, title):
    mask, step, dilation, kernel, output = _layout(**case)
    size = len(mask)
    row, col = position
    taps = {(row * step + p * dilation, col * step + q * dilation) for p in range(kernel) for q in range(kernel)}
    for r in range(size):
        for c in range(size):
            real = mask[r] and mask[c]
            ax.add_patch(matplotlib.patches.Rectangle(
                (c, -r - 1), 1, 1, facecolor=_INPUT if real else _PADDING, edgecolor="0.35",
                linestyle="-" if real else "--", linewidth=0.8,
            ))
            if (r, c) in taps:
                ax.add_patch(matplotlib.patches.Rectangle((c + 0.12, -r - 0.88), 0.76, 0.76, fill=False, edgecolor=_TAP, linewidth=2.2))
    left = size + _GAP
    top = -(size - output) / 2
    for r in range(output):
        for c in range(output):
            colour = _CURRENT if (r, c) == (row, col) else _OUTPUT
            ax.add_patch(matplotlib.patches.Rectangle((left + c, top - r - 1), 1, 1, facecolor=colour, edgecolor="0.35", linewidth=0.8))
    ax.annotate("", xy=(left - 0.2, -size / 2), xytext=(size + 0.2, -size / 2), arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.set_xlim(-0.3, left + output + 0.3)
    ax.set_ylim(-size - 0.3, 0.3)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)


def _describe(case):
    words = [f"i={case['input_size']}, k={case['kernel_size']}"]
    for key, short in (("stride", "s"), ("dilation", "d")):
        if case.get(key, 1) != 1:
            words.append(f"{short}={case[key]}")
    if case.get("padding", "valid") not in ("valid", 0):
        words.append(f"p={case['padding']!r}" if isinstance(case["padding"], str) else f"p={case['padding']}")
    kind = "transposed: " if case.get("transposed") else ""
    return kind + ", ".join(words) + f" -> o={_layout(**case)[4]}"


def _legend(fig, transposed):
    handles = [
        matplotlib.patches.Patch(facecolor=_INPUT, edgecolor="0.35", label="input pixel"),
        matplotlib.patches.Patch(facecolor=_PADDING, edgecolor="0.35", linestyle="--",
                                 label="padding / inserted zero" if transposed else "padding"),
        matplotlib.patches.Patch(facecolor="none", edgecolor=_TAP, linewidth=2, label="kernel tap"),
        matplotlib.patches.Patch(facecolor=_OUTPUT, edgecolor="0.35", label="output"),
        matplotlib.patches.Patch(facecolor=_CURRENT, edgecolor="0.35", label="output being computed"),
    ]
    # As many columns as fit in the figure's width (a narrow animation frame clipped a one-row legend).
    renderer = matplotlib.backends.backend_agg.FigureCanvasAgg(fig).get_renderer()
    for ncols in range(len(handles), 0, -1):
        legend = fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=8, frameon=False)
        if ncols == 1 or legend.get_window_extent(renderer).width <= 0.96 * fig.bbox.width:
            return legend
        legend.remove()


def _check_cases(cases):
    if isinstance(cases, dict):
        cases = [cases]
    if not cases:
        raise ValueError("`cases` must hold at least one case (a dict of input_size, kernel_size, ...); received none.")
    allowed = {"input_size", "kernel_size", "stride", "padding", "dilation", "transposed"}
    for index, case in enumerate(cases):
        if not isinstance(case, dict) or not {"input_size", "kernel_size"} <= set(case) or set(case) - allowed:
            raise ValueError(
                f"`cases[{index}]` must be a dict with input_size and kernel_size and optionally "
                f"stride, padding, dilation, transposed; received {case!r}."
            )
        _layout(**case)  # checks the numbers
    return list(cases)


def plot_conv_arithmetic(cases, *, position=(0, 0), ncols=None, size=2.4):
    """Draw convolutions in the style of Dumoulin & Visin's convolution arithmetic.

    Parameters
    ----------
    cases : dict or list of dict
        Each ``dict(input_size=..., kernel_size=..., stride=1, padding="valid",
        dilation=1, transposed=False)``, square sizes; ``padding`` as in
        :func:`cnn_tutor.shapes.conv_output_size`.  A transposed case is drawn
        as the equivalent direct convolution: stride 1 over the input with
        zeros inserted.
    position : (int, int)
        The output pixel whose kernel footprint is drawn.
    ncols : int, optional
        Panels per row (default: all in one row, at most 3).
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_conv_arithmetic([dict(input_size=5, kernel_size=3), dict(input_size=5, kernel_size=3, padding="same")])
    >>> [ax.get_title() for ax in fig.axes]
    ['i=5, k=3 -> o=3', "i=5, k=3, p='same' -> o=5"]
    """
    cases = _check_cases(cases)
    ncols = min(len(cases), 3) if ncols is None else _validation.check_int("ncols", ncols, minimum=1)
    nrows = math.ceil(len(cases) / ncols)
    fig = matplotlib.figure.Figure(figsize=(ncols * size * 1.6, nrows * size + 0.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(cases):]:
        ax.set_axis_off()
    for ax, case in zip(axes.flat, cases):
        output = _layout(**case)[4]
        row, col = (min(index, output - 1) for index in position)
        _draw_case(ax, case, (row, col), _describe(case))
    _legend(fig, any(case.get("transposed") for case in cases))
    return fig


def animate_conv_arithmetic(input_size, kernel_size, *, stride=1, padding="valid", dilation=1, transposed=False,
                            size=3.0, dpi=70, interval=500):
    """Animate a convolution visiting every output pixel; returns a ``FuncAnimation``.

    In a notebook, ``cnn_tutor.viz.animation_html(animation)`` embeds it as
    self-contained HTML that plays in the built book.  One frame per output
    pixel, so keep the sizes small.

    Parameters
    ----------
    input_size, kernel_size, stride, padding, dilation, transposed
        As one case of :func:`plot_conv_arithmetic`.
    size : float
        Height of the figure in inches.
    dpi : int
        Resolution of the frames.
    interval : int
        Milliseconds between frames.

    Returns
    -------
    matplotlib.animation.FuncAnimation

    Examples
    --------
    >>> html = animate_conv_arithmetic(4, 3, dpi=30).to_jshtml()   # 2 x 2 output: 4 frames
    >>> html.count("data:image/png")
    4
    """
    case = _check_cases(dict(input_size=input_size, kernel_size=kernel_size, stride=stride, padding=padding,
                             dilation=dilation, transposed=transposed))[0]
    output = _layout(**case)[4]
    fig = matplotlib.figure.Figure(figsize=(size * 1.7, size + 0.4), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    _legend(fig, transposed)

    def draw(frame):
        ax.clear()
        _draw_case(ax, case, divmod(frame, output), _describe(case))
        return []

    return matplotlib.animation.FuncAnimation(fig, draw, frames=output * output, interval=interval, blit=False,
                                              init_func=lambda: draw(0))


def plot_kernels(kernels, titles=None, *, annotate=True, size=1.5, ncols=None):
    """Show 2-D filters as images, negative weights red and positive blue, on one colour scale each.

    Parameters
    ----------
    kernels : array_like or list of array_like
        ``(n, height, width)`` or a list of 2-D arrays (sizes may differ).
    titles : list of str, optional
        One per kernel.
    annotate : bool
        Write the weights in the cells (kernels up to 7x7).
    size : float
        Inches per kernel.
    ncols : int, optional
        Kernels per row (default: all, at most 8).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_kernels([np.eye(3), -np.ones((5, 5))], titles=["identity-ish", "box"])
    >>> len(fig.axes)
    2
    """
    arrays = [_validation.as_float_array("kernels", kernel) for kernel in kernels]
    for index, kernel in enumerate(arrays):
        if kernel.ndim != 2:
            raise ValueError(f"`kernels[{index}]` must be 2-D (height, width); received shape {kernel.shape}.")
    if not arrays:
        raise ValueError("`kernels` must hold at least one kernel; received none.")
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"`titles` must have one entry per kernel ({len(arrays)}); received {len(titles)}.")
    ncols = min(len(arrays), 8) if ncols is None else _validation.check_int("ncols", ncols, minimum=1)
    nrows = math.ceil(len(arrays) / ncols)
    fig = matplotlib.figure.Figure(figsize=(ncols * size, nrows * (size + 0.3)), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= len(arrays):
            continue
        kernel = arrays[index]
        limit = _style.symmetric_limit(kernel)
        ax.imshow(kernel, cmap=_style.FILTER_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
        if annotate and max(kernel.shape) <= 7:
            for (r, c), value in np.ndenumerate(kernel):
                text = f"{value:.2g}" if abs(value) >= 0.01 or value == 0 else f"{value:.0e}"
                ax.text(c, r, text, ha="center", va="center", fontsize=7,
                        color="white" if abs(value) > 0.6 * limit else "black")
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    return fig


def plot_multichannel_conv(image, kernels, *, size=1.4, channel_names=None):
    """Draw a multi-channel convolution as the sum of per-channel correlations.

    Row ``o`` shows, for output channel ``o``, each input channel correlated
    with its slice ``kernels[:, :, c, o]`` and then their sum, which is output
    channel ``o`` of :func:`cnn_tutor.ops.conv2d`.  The first row shows the
    input channels.

    Parameters
    ----------
    image : array_like
        One image ``(height, width, in_channels)``.
    kernels : array_like
        ``(kernel_height, kernel_width, in_channels, out_channels)``.
    size : float
        Inches per panel.
    channel_names : list of str, optional
        Names of the input channels (default ``"channel 0"``...).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_multichannel_conv(np.random.default_rng(0).random((8, 8, 3)), np.ones((3, 3, 3, 2)))
    >>> len(fig.axes)   # (1 input row + 2 output rows) x (3 channels + sum)
    12
    """
    image = _validation.as_float_array("image", image)
    _validation.check_ndim("image", image, 3, "(height, width, in_channels)", hint="For a batch, pass one image: `images[0]`.")
    kernels = _validation.check_ndim("kernels", _validation.as_float_array("kernels", kernels), 4,
                                     "(kernel_height, kernel_width, in_channels, out_channels)")
    in_channels, out_channels = kernels.shape[2:]
    names = channel_names or [f"channel {c}" for c in range(in_channels)]
    # Each input channel on its own, against its slice of every filter: (1, h, w, out) per channel.
    partial = [ops.conv2d(image[None, ..., c : c + 1], kernels[:, :, c : c + 1, :], padding="same")[0] for c in range(in_channels)]
    fig = matplotlib.figure.Figure(figsize=((in_channels + 1) * size, (out_channels + 1) * (size + 0.25)), layout="constrained")
    axes = fig.subplots(out_channels + 1, in_channels + 1, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for c in range(in_channels):
        axes[0, c].imshow(image[..., c], cmap="gray", interpolation="nearest")
        axes[0, c].set_title(f"input {names[c]}", fontsize=8)
    axes[0, in_channels].text(0.5, 0.5, "sum over\ninput channels", ha="center", va="center", fontsize=8, transform=axes[0, in_channels].transAxes)
    for o in range(out_channels):
        total = sum(maps[..., o] for maps in partial)
        for c in range(in_channels):
            axes[o + 1, c].imshow(partial[c][..., o], cmap="gray", interpolation="nearest")
            axes[o + 1, c].set_title(f"{names[c]} * K[:, :, {c}, {o}]", fontsize=7)
        axes[o + 1, in_channels].imshow(total, cmap="gray", interpolation="nearest")
        axes[o + 1, in_channels].set_title(f"= output {o}", fontsize=8, fontweight="bold")
    return fig


def plot_timings(x, timings, *, xlabel, ylabel="time per call (ms)", title=None, logy=True, figsize=(5.5, 3.4)):
    """Plot timings of several methods against one parameter (median seconds in, milliseconds out).

    Parameters
    ----------
    x : sequence of float
        The parameter (kernel size, image size...).
    timings : dict of str to sequence of float
        Seconds per call for each method, one value per ``x`` (``nan`` where a
        method was not run).
    xlabel, ylabel, title : str
        Labels.
    logy : bool
        Logarithmic time axis.
    figsize : (float, float)
        Width and height of the figure in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_timings([1, 3, 5], {"a": [0.001, 0.002, 0.004], "b": [0.003, 0.003, 0.003]}, xlabel="k")
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['a', 'b']
    """
    x = np.asarray(x, dtype=float)
    fig = matplotlib.figure.Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    for name, seconds in timings.items():
        seconds = np.asarray(seconds, dtype=float)
        if seconds.shape != x.shape:
            raise ValueError(f"`timings[{name!r}]` must have one value per x ({len(x)}); received {len(seconds)}.")
        ax.plot(x, seconds * 1e3, marker="o", label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig
