"""Smoke tests of cnn_tutor.viz.models on the Agg backend."""

import types

import matplotlib

matplotlib.use("Agg")

import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_tutor.viz import models as viz_models  # noqa: E402


def _render(fig):
    assert isinstance(fig, matplotlib.figure.Figure)
    fig.canvas.draw()  # lays out and draws without a display
    return fig


def test_plot_filters_keras_kernel_and_stack():
    rng = np.random.default_rng(0)
    fig = _render(viz_models.plot_filters(rng.normal(size=(3, 3, 1, 10)), titles=[str(i) for i in range(10)], ncols=5))
    assert len(fig.axes) == 10 + 1  # ten filters and the colour bar
    fig = _render(viz_models.plot_filters(rng.normal(size=(4, 5, 5))))
    assert len(fig.axes) == 4 + 1


def test_plot_filters_shows_each_output_channel_on_one_centred_scale():
    kernel = np.arange(3 * 3 * 2 * 4, dtype=float).reshape(3, 3, 2, 4) - 20.0
    fig = _render(viz_models.plot_filters(kernel, ncols=4))
    images = [ax.images[0] for ax in fig.axes[:4]]
    for index, image in enumerate(images):
        np.testing.assert_array_equal(image.get_array(), kernel[:, :, 0, index])  # filter k, input channel 0
        assert image.get_clim() == (-47.0, 47.0)  # centred on zero: max |weight| of the shown filters (-20..47)
        assert image.get_cmap().name == "RdBu"  # negative red, positive blue, as plot_kernels
    fig = viz_models.plot_filters(kernel, input_channel=1)
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), kernel[:, :, 1, 2])
    with pytest.raises(ValueError, match=r"`input_channel` must be below the kernel's 2 input channel\(s\); received 2"):
        viz_models.plot_filters(kernel, input_channel=2)


def test_plot_filters_errors():
    with pytest.raises(ValueError, match="Keras kernel"):
        viz_models.plot_filters(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="one entry per filter"):
        viz_models.plot_filters(np.ones((2, 3, 3)), titles=["a"])


def test_plot_feature_maps():
    maps = {"conv1": np.random.default_rng(0).random((26, 26, 32)), "pool1": np.zeros((13, 13, 32)), "conv3": np.ones((3, 3, 4))}
    fig = _render(viz_models.plot_feature_maps(maps, max_channels=6))
    assert len(fig.axes) == 3 * 6
    assert "conv1" in fig.axes[0].get_ylabel()
    np.testing.assert_array_equal(fig.axes[4].images[0].get_array(), maps["conv1"][..., 4])  # row 0, channel 4
    assert not fig.axes[3 * 6 - 1].images  # conv3 has 4 channels: columns 5 and 6 are empty
    with pytest.raises(TypeError, match="dict"):
        viz_models.plot_feature_maps([np.zeros((3, 3, 1))])
    with pytest.raises(ValueError, match="height, width, channels"):
        viz_models.plot_feature_maps({"dense": np.zeros(64)})


def test_plot_confusion_matrix():
    matrix = np.diag([98, 97, 3]) + np.eye(3, k=1, dtype=int)
    fig = _render(viz_models.plot_confusion_matrix(matrix, class_names=["a", "b", "c"]))
    ax = fig.axes[0]
    shown = ax.images[0].get_array()
    assert shown[0, 0] == 98 and shown[0, 1] == 1 and np.ma.is_masked(shown[1, 0])  # rows true, columns predicted
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert sorted(t.get_text() for t in ax.texts) == sorted(["98", "97", "3", "1", "1"])
    with pytest.raises(ValueError, match="square"):
        viz_models.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="counts"):
        viz_models.plot_confusion_matrix(-np.eye(2))


def test_plot_learning_curves_draws_training_and_validation_per_run():
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.9], "accuracy": [0.5, 0.7, 0.9],
               "val_accuracy": [0.4, 0.6, 0.7]}
    fig = _render(viz_models.plot_learning_curves({"a": history, "b": history}))
    loss_ax, accuracy_ax = fig.axes
    assert len(loss_ax.lines) == 4 and loss_ax.get_xlabel() == "epoch"
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), [1.1, 0.8, 0.9])  # a, validation
    np.testing.assert_array_equal(accuracy_ax.lines[0].get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError, match="must have 'val_loss'"):
        viz_models.plot_learning_curves({"a": {"loss": [1.0]}}, metrics=("loss",))
    with pytest.raises(TypeError, match="non-empty dict"):
        viz_models.plot_learning_curves({})


def test_plot_precision_recall_draws_each_curve_with_its_ap():
    curve = types.SimpleNamespace(precision=np.array([1.0, 0.5, 0.667]), recall=np.array([0.5, 0.5, 1.0]),
                                  mean_ap=0.8333)
    fig = _render(viz_models.plot_precision_recall({"test": curve}))
    (line,) = fig.axes[0].lines
    np.testing.assert_array_equal(line.get_xdata(), [0.5, 0.5, 1.0])
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "test (mAP 0.833)"
    with pytest.raises(TypeError, match="must be a PrecisionRecall"):
        viz_models.plot_precision_recall({"x": 1})


def test_show_detections_draws_truth_and_predictions():
    images = np.zeros((3, 32, 32, 1), dtype=np.float32)
    truth = ([np.array([[2, 2, 20, 12]], dtype=np.float32)] * 3, [np.array([4])] * 3)
    found = [
        types.SimpleNamespace(boxes=np.array([[3, 2, 21, 12]]), labels=np.array([4]), scores=np.array([0.93])),
        types.SimpleNamespace(boxes=np.zeros((0, 4)), labels=np.zeros(0, int), scores=np.zeros(0)),
        types.SimpleNamespace(boxes=np.array([[3, 2, 21, 12], [20, 20, 30, 30]]), labels=np.array([4, 1]), scores=np.array([0.9, 0.6])),
    ]
    fig = _render(viz_models.show_detections(images, found, truth, ncols=2, titles=["a", "b", "c"]))
    assert [len(ax.patches) for ax in fig.axes[:3]] == [2, 1, 3]
    truth_box, found_box = fig.axes[0].patches
    # (top, left, bottom, right) = (2, 2, 20, 12): x from left - 0.5, width right - left, height bottom - top
    assert (truth_box.get_x(), truth_box.get_y(), truth_box.get_width(), truth_box.get_height()) == (1.5, 1.5, 10, 18)
    assert found_box.get_edgecolor()[:3] == (1.0, 0.0, 0.0)
    assert fig.axes[0].texts[0].get_text() == "4 0.93"
    with pytest.raises(ValueError, match="one entry per image"):
        viz_models.show_detections(images, found[:2])
    with pytest.raises(ValueError, match="1 channel"):
        viz_models.show_detections(np.zeros((1, 8, 8, 3)))


def test_plot_class_map():
    probs = np.zeros((4, 4, 11))
    probs[..., 10] = 1.0
    probs[1, 2] = 0.0
    probs[1, 2, 7] = 0.95
    fig = _render(viz_models.plot_class_map(np.zeros((28, 28, 1)), probs, background=10))
    assert [t.get_text() for t in fig.axes[1].texts] == ["7"]
    with pytest.raises(ValueError, match="map_height"):
        viz_models.plot_class_map(np.zeros((8, 8)), np.zeros((4, 4)))
