"""Figures of the Generation chapter: samples over epochs, latent maps, GAN losses."""

import matplotlib.figure
import numpy as np

from cnn_tutor import _validation

__all__ = ["plot_gan_losses", "plot_latent_map", "plot_sample_evolution"]


def plot_sample_evolution(grids, *, epochs=None, num_images=8, size=0.8):
    """The same fixed-noise samples after several epochs: one row per epoch.

    Parameters
    ----------
    grids : dict
        ``epoch -> images (n, h, w, 1)`` in [0, 1] (``GanRun.grids``).
    epochs : sequence of int, optional
        Which epochs to show (default: all).
    num_images : int
        Samples per row.
    size : float
        Inches per image.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_sample_evolution({1: np.zeros((4, 8, 8, 1)), 2: np.ones((4, 8, 8, 1))}, num_images=3)
    >>> len(fig.axes)
    6
    """
    if not isinstance(grids, dict) or not grids:
        raise ValueError("`grids` must be a non-empty dict epoch -> images, e.g. GanRun.grids; received an empty value.")
    epochs = sorted(grids) if epochs is None else list(epochs)
    missing = [e for e in epochs if e not in grids]
    if missing:
        raise ValueError(f"`epochs` {missing} are not in `grids` (available: {sorted(grids)}).")
    num_images = _validation.check_int("num_images", num_images, minimum=1)
    fig = matplotlib.figure.Figure(figsize=(num_images * size + 0.8, len(epochs) * size), layout="constrained")
    axes = fig.subplots(len(epochs), num_images, squeeze=False)
    for row, epoch in zip(axes, epochs):
        images = _validation.check_images(f"grids[{epoch}]", grids[epoch])
        for col, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(images):
                ax.imshow(images[col, ..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        row[0].set_ylabel(f"epoch {epoch}", fontsize=8)
    return fig


def plot_latent_map(images, axis, *, figsize=(5.0, 5.0)):
    """A grid of decoded images laid out at their 2-D latent coordinates (``vae.latent_grid``).

    Image ``k`` of ``images`` is the code ``(axis[k % n], axis[n - 1 - k // n])``
    (row by row, top row first, as :func:`cnn_tutor.models.vae.latent_grid`
    makes them): ``z[0]`` grows to the right and ``z[1]`` upwards, and each
    image is centred on its code's tick.

    Parameters
    ----------
    images : array_like
        ``(n * n, height, width, 1)`` in [0, 1].
    axis : array_like
        The ``n`` evenly spaced coordinates of the grid along each axis.
    figsize : (float, float)
        Width and height of the figure in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_latent_map(np.zeros((9, 8, 8, 1)), np.array([-1.0, 0.0, 1.0]))
    >>> [float(v) for v in fig.axes[0].images[0].get_extent()]  # each image centred on its code
    [-1.5, 1.5, -1.5, 1.5]
    """
    images = _validation.check_images("images", images)
    axis = _validation.as_float_array("axis", axis)
    n = len(axis)
    if len(images) != n * n:
        raise ValueError(f"`images` must hold len(axis)**2 = {n * n} images; received {len(images)}.")
    if n < 2:
        raise ValueError(f"`axis` must hold at least 2 coordinates; received {n}.")
    h, w = images.shape[1:3]
    # (row, column, h, w) -> (row, h, column, w): image (r, c) fills rows r*h.. and columns c*w..
    canvas = images[..., 0].reshape(n, n, h, w).transpose(0, 2, 1, 3).reshape(n * h, n * w)
    half = (axis[-1] - axis[0]) / (n - 1) / 2  # the images' centres sit on the coordinates
    fig = matplotlib.figure.Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1,
              extent=(axis[0] - half, axis[-1] + half, axis[0] - half, axis[-1] + half))
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    return fig


def plot_gan_losses(history, *, scores=None, target=None, figsize=None):
    """Per-epoch losses of both networks and the discriminator's outputs (``GanRun.history``).

    Parameters
    ----------
    history : dict
        ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake`` per epoch.
    scores : dict, optional
        ``epoch -> value``, e.g. the classifier score relative to the real
        digits' measured during training; drawn in a third panel.
    target : float, optional
        A horizontal line in the scores panel.
    figsize : (float, float), optional
        Width and height of the figure in inches (default: 3.5 wide per
        panel, 2.6 high).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> h = {"d_loss": [1.3, 1.2], "g_loss": [0.8, 0.9], "d_real": [0.6, 0.6], "d_fake": [0.4, 0.4]}
    >>> len(plot_gan_losses(h).axes), len(plot_gan_losses(h, scores={2: 0.5}, target=0.75).axes)
    (2, 3)
    """
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        if key not in history:
            raise ValueError(f"`history` must hold {key!r} (GanRun.history); received keys {sorted(history)}.")
    if scores is not None and (not isinstance(scores, dict) or not scores):
        raise ValueError(f"`scores` must be a non-empty dict epoch -> value; received {scores!r}.")
    if target is not None and scores is None:
        raise ValueError("`target` needs `scores`: it is a line in the scores panel; received scores=None.")
    panels = 2 if scores is None else 3
    epochs = np.arange(1, len(history["d_loss"]) + 1)
    fig = matplotlib.figure.Figure(figsize=figsize or (3.5 * panels, 2.6), layout="constrained")
    axes = fig.subplots(1, panels)
    left, right = axes[:2]
    left.plot(epochs, history["d_loss"], label="discriminator")
    left.plot(epochs, history["g_loss"], label="generator")
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    left.legend(fontsize=8)
    right.plot(epochs, history["d_real"], label="D(real)")
    right.plot(epochs, history["d_fake"], label="D(G(z))")
    right.axhline(0.5, color="gray", lw=0.8, ls="--")
    right.set_xlabel("epoch")
    right.set_ylabel("mean probability 'real'")
    right.legend(fontsize=8)
    if scores is not None:
        ax = axes[2]
        ax.plot(sorted(scores), [scores[e] for e in sorted(scores)], "o-", label="measured")
        if target is not None:
            ax.axhline(target, color="gray", lw=0.8, ls="--", label=f"target {target:g}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("classifier score / real")
        ax.legend(fontsize=8)
    return fig
