"""Animations that play anywhere: in JupyterLab, Colab and the offline HTML book."""

import re

import matplotlib.animation

__all__ = ["animation_html"]

# matplotlib's player draws its buttons with Font Awesome 4 icons loaded from a
# CDN, which an offline book (or reader) cannot reach. Plain Unicode symbols
# need no stylesheet.
_ICONS = {
    "fa fa-minus": "&#8722;",                    # minus: slower
    "fa fa-fast-backward": "&#9198;",            # first frame
    "fa fa-step-backward": "&#9664;&#10073;",    # previous frame
    "fa fa-play fa-flip-horizontal": "&#9664;",  # play backwards
    "fa fa-pause": "&#10073;&#10073;",           # pause
    "fa fa-play": "&#9654;",                     # play
    "fa fa-step-forward": "&#10073;&#9654;",     # next frame
    "fa fa-fast-forward": "&#9197;",             # last frame
    "fa fa-plus": "+",                           # faster
}
_STYLESHEET = re.compile(r"<link[^>]*font-awesome[^>]*>\s*", re.S)
_ICON = re.compile(r'<i class="(fa [^"]+)"></i>')


def animation_html(animation, *, default_mode="loop"):
    """Embed a matplotlib animation as self-contained HTML (frames and player, no downloads).

    Parameters
    ----------
    animation : matplotlib.animation.Animation
        The animation to embed.
    default_mode : {"loop", "once", "reflect"}
        What the player does at the last frame.

    Returns
    -------
    IPython.display.HTML
        Displayed as the cell's value in a notebook and in the built book.

    Examples
    --------
    >>> import matplotlib.figure, matplotlib.animation
    >>> fig = matplotlib.figure.Figure(figsize=(1, 1), dpi=20)
    >>> ax = fig.subplots()
    >>> anim = matplotlib.animation.FuncAnimation(fig, lambda i: ax.set_title(str(i)), frames=2)
    >>> html = animation_html(anim).data
    >>> "font-awesome" in html, "&#9654;" in html
    (False, True)
    """
    import IPython.display

    if not isinstance(animation, matplotlib.animation.Animation):
        raise TypeError(
            f"`animation` must be a matplotlib.animation.Animation; received {type(animation).__name__}."
        )
    if default_mode not in ("loop", "once", "reflect"):
        raise ValueError(f"`default_mode` must be one of 'loop', 'once', 'reflect'; received {default_mode!r}.")
    html = animation.to_jshtml(default_mode=default_mode)
    html = _STYLESHEET.sub("", html)
    html = _ICON.sub(lambda match: f"<span>{_ICONS.get(match.group(1), '?')}</span>", html)
    return IPython.display.HTML(html)
