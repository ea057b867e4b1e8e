"""Smoke tests of cnn_tutor.viz.arithmetic on the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_tutor import viz  # noqa: E402

CASES = [
    dict(input_size=5, kernel_size=3),
    dict(input_size=5, kernel_size=4, padding="same"),
    dict(input_size=6, kernel_size=3, stride=2, padding=(0, 1)),
    dict(input_size=7, kernel_size=3, dilation=2),
    dict(input_size=3, kernel_size=3, stride=2, transposed=True),
    dict(input_size=3, kernel_size=4, stride=2, padding="same", transposed=True),
]


def render(fig):
    assert isinstance(fig, matplotlib.figure.Figure)
    fig.canvas.draw()  # catches errors that only appear when drawing
    return fig


def test_plot_conv_arithmetic_draws_every_case():
    fig = render(viz.plot_conv_arithmetic(CASES, position=(1, 2), ncols=2))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0] == "i=5, k=3 -> o=3"
    assert titles[4] == "transposed: i=3, k=3, s=2 -> o=7"
    assert len(titles) == len(CASES)


def test_plot_conv_arithmetic_errors():
    with pytest.raises(ValueError, match=r"`cases\[0\]` must be a dict with input_size and kernel_size"):
        viz.plot_conv_arithmetic([dict(input_size=5)])
    with pytest.raises(ValueError, match=r"`kernel_size` must fit in the padded input"):
        viz.plot_conv_arithmetic(dict(input_size=2, kernel_size=3))
    with pytest.raises(ValueError, match=r"`cases` must hold at least one case"):
        viz.plot_conv_arithmetic([])


def test_animate_conv_arithmetic_makes_one_frame_per_output_pixel():
    animation = viz.animate_conv_arithmetic(5, 3, stride=2, padding=1, dpi=30)
    html = animation.to_jshtml()
    assert html.count("data:image/png") == 9


def test_animate_transposed():
    html = viz.animate_conv_arithmetic(2, 3, stride=2, transposed=True, dpi=30).to_jshtml()
    assert html.count("data:image/png") == 25


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.animate_conv_arithmetic(5, 3, stride=2, padding=1, size=2.4, dpi=60)._fig,
        lambda: viz.animate_conv_arithmetic(2, 3, stride=2, transposed=True, size=2.4, dpi=60)._fig,
        lambda: viz.plot_conv_arithmetic(CASES[:4], ncols=2, size=2.0),
        lambda: viz.plot_conv_arithmetic(CASES[0], size=1.5),
    ],
    ids=["animation", "transposed animation", "four panels", "one small panel"],
)
@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")  # only its figure is drawn here
def test_the_legend_fits_inside_the_figure(make):
    fig = make()
    fig.canvas.draw()
    legend = fig.legends[0].get_window_extent()
    assert legend.x0 >= 0 and legend.x1 <= fig.bbox.width, f"legend {legend} clipped by a figure {fig.bbox.width} wide"
    assert legend.y0 >= 0
    assert len(fig.legends[0].get_texts()) == 5


def test_plot_kernels():
    kernels = np.random.default_rng(0).normal(size=(3, 3, 3))
    fig = render(viz.plot_kernels(kernels, titles=["a", "b", "c"], ncols=2))
    assert [ax.get_title() for ax in fig.axes][:3] == ["a", "b", "c"]
    image = fig.axes[1].images[0]
    np.testing.assert_array_equal(image.get_array(), kernels[1])
    limit = np.abs(kernels[1]).max()
    assert image.get_clim() == (-limit, limit) and image.get_cmap().name == "RdBu"  # the book's filter colours
    assert [t.get_text() for t in fig.axes[1].texts][0] == f"{kernels[1][0, 0]:.2g}"
    render(viz.plot_kernels([np.zeros((9, 9))], annotate=True))  # too big to annotate, all zeros
    with pytest.raises(ValueError, match=r"`kernels\[0\]` must be 2-D \(height, width\); received shape \(3,\)"):
        viz.plot_kernels([np.ones(3)])
    with pytest.raises(ValueError, match=r"`titles` must have one entry per kernel \(1\); received 2"):
        viz.plot_kernels([np.ones((3, 3))], titles=["a", "b"])


def test_plot_multichannel_conv():
    from cnn_tutor import ops

    rng = np.random.default_rng(0)
    image, kernels = rng.random((10, 12, 3)), rng.normal(size=(3, 3, 3, 2))
    fig = render(viz.plot_multichannel_conv(image, kernels, channel_names=["R", "G", "B"]))
    axes = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    assert "= output 1" in axes
    expected = ops.conv2d(image[None], kernels, padding="same")[0]
    for o in range(2):
        # the last panel of each row is the sum over input channels: output channel o of the convolution
        np.testing.assert_allclose(axes[f"= output {o}"].images[0].get_array(), expected[..., o], atol=1e-10)
        single = ops.conv2d(image[None, ..., 1:2], kernels[:, :, 1:2, o : o + 1], padding="same")[0, ..., 0]
        np.testing.assert_allclose(axes[f"G * K[:, :, 1, {o}]"].images[0].get_array(), single, atol=1e-10)
    with pytest.raises(ValueError, match=r"`image` must be 3-D \(height, width, in_channels\); received shape \(1, 10, 12, 3\)"):
        viz.plot_multichannel_conv(image[None], np.ones((3, 3, 3, 2)))


def test_plot_timings():
    fig = render(viz.plot_timings([3, 5], {"naive": [1.0, 2.0], "fast": [0.001, np.nan]}, xlabel="kernel size", title="t"))
    assert fig.axes[0].get_yscale() == "log"
    naive = fig.axes[0].get_lines()[0]
    assert list(naive.get_xdata()) == [3, 5] and list(naive.get_ydata()) == [1000.0, 2000.0]  # seconds -> ms
    with pytest.raises(ValueError, match=r"`timings\['a'\]` must have one value per x \(2\); received 1"):
        viz.plot_timings([3, 5], {"a": [1.0]}, xlabel="k")
