"""From classification to detection: the classifier's trunk as a fully convolutional detector.

The article lists object detection (目标检测) among the applications of CNNs
but shows no code.  The idea used here is the one of OverFeat and of fully
convolutional networks: a ``Dense`` layer on a flattened ``h x w x c`` map is
the same computation as an ``h x w`` convolution with no padding, so the
classifier can be rewritten as a network of convolutions only, which accepts
a canvas of any size and outputs a *map* of class scores, one per window
position (:func:`to_fully_convolutional`).  The detector
(:func:`build_detector`) adds a background class and a box head and is
initialised from a trained classifier.  Its training targets are dense maps
scored by two losses (:mod:`cnn_tutor.models.detector_targets`), and
:func:`cnn_tutor.models.training.train_detector` fine-tunes it on canvases.  :func:`decode_detections` turns its maps into boxes with
non-maximum suppression; the scores (recall, false positives) are in
``cnn_tutor.metrics.detection``.

Boxes are ``(top, left, bottom, right)`` in pixels with ``bottom`` and
``right`` exclusive, as in ``cnn_tutor.data.detection``.

Used by the Keras models chapter.
"""

import typing

import keras
import numpy as np

from cnn_tutor import _validation, shapes
from cnn_tutor.metrics import detection as detection_metrics
from cnn_tutor.models._common import seed_weights

__all__ = [
    "Detections",
    "Geometry",
    "build_detector",
    "decode_detections",
    "detect",
    "detector_geometry",
    "geometry_of",
    "to_fully_convolutional",
]


class Geometry(typing.NamedTuple):
    """Where the cells of a class map look in the input.

    Cell ``(i, j)`` of the map is computed from the window whose top-left
    corner is ``(stride * i, stride * j)`` and whose side is ``window``.
    """

    stride: int
    window: int

    def map_size(self, size):
        """Cells along one side of the map for an input ``size`` pixels wide."""
        return max((size - self.window) // self.stride + 1, 0)


def detector_geometry(num_conv=3, kernel_size=3, pool_size=2, head_kernel=3):
    """Stride and window (receptive field) of the detector's class map.

    The trunk is ``num_conv`` convolutions with a pooling after each but the
    last, then the head's ``head_kernel`` convolution; the window and stride
    of the map are the receptive field and the jump of that stack
    (:func:`cnn_tutor.shapes.receptive_fields`).

    Examples
    --------
    >>> detector_geometry()  # the article's trunk: every cell sees 26x26 pixels, 4 apart
    Geometry(stride=4, window=26)
    """
    num_conv = _validation.check_int("num_conv", num_conv, minimum=1)
    layers = []
    for index in range(num_conv):
        layers.append((kernel_size, 1))
        if index < num_conv - 1:
            layers.append((pool_size, pool_size))
    layers.append((head_kernel, 1))
    field = shapes.receptive_fields(layers)[-1]
    return Geometry(stride=field.jump, window=field.size)


def _trunk(x, filters, kernel_size, pool_size, activation):
    for index, units in enumerate(filters):
        x = keras.layers.Conv2D(units, kernel_size, activation=activation, name=f"conv{index + 1}")(x)
        if index < len(filters) - 1:
            x = keras.layers.MaxPooling2D(pool_size, name=f"pool{index + 1}")(x)
    return x


def _flatten_grid(classifier):
    """Spatial size of the map that the classifier's Flatten layer flattens."""
    shape = classifier.get_layer("flatten").input.shape
    return int(shape[1]), int(shape[2])


def _check_classifier(classifier):
    names = {layer.name for layer in classifier.layers}
    needed = {"conv1", "flatten", "dense", "probabilities"}
    if not needed <= names:
        raise ValueError(
            "`classifier` must be a model from cnn_tutor.models.classifier.build_classifier() with its default "
            f"padding='valid' and strides=1 (layers {sorted(needed)}); received a model with layers {sorted(names)}."
        )
    convs = [layer for layer in classifier.layers if layer.name.startswith("conv")]
    for layer in convs:
        if layer.padding != "valid" or tuple(layer.strides) != (1, 1):
            raise ValueError(
                f"`classifier` must use padding='valid' and strides=1 in every convolution; layer {layer.name!r} "
                f"has padding={layer.padding!r}, strides={tuple(layer.strides)}."
            )
    return convs


def to_fully_convolutional(classifier):
    """Rewrite a trained classifier as a fully convolutional network with the same weights.

    ``Flatten`` + ``Dense(u)`` on an ``h x w x c`` map becomes a ``Conv2D(u,
    (h, w))`` with no padding, whose kernel is the dense kernel reshaped to
    ``(h, w, c, u)`` (``Flatten`` orders the values row by row, channels
    last, which is the layout of a Keras convolution kernel); the output
    ``Dense`` becomes a 1x1 convolution.  On the classifier's input size the
    result is a 1x1 map equal to the classifier's output; on a larger image
    it is a map of class probabilities, one per window (see
    :func:`detector_geometry`).

    Parameters
    ----------
    classifier : keras.Model
        A model from :func:`cnn_tutor.models.classifier.build_classifier`
        (``padding="valid"``, stride 1).

    Returns
    -------
    keras.Model
        Input ``(batch, height, width, channels)`` of any size at least the
        classifier's; output ``(batch, map_h, map_w, num_classes)``.
    """
    convs = _check_classifier(classifier)
    channels = int(classifier.input_shape[-1])
    grid = _flatten_grid(classifier)
    dense = classifier.get_layer("dense")
    output = classifier.get_layer("probabilities")
    inputs = keras.Input(shape=(None, None, channels), name="canvas")
    x = inputs
    for index, conv in enumerate(convs):
        x = keras.layers.Conv2D(conv.filters, conv.kernel_size, activation=conv.activation, name=conv.name)(x)
        if index < len(convs) - 1:
            pool = classifier.get_layer(f"pool{index + 1}")
            x = keras.layers.MaxPooling2D(pool.pool_size, name=pool.name)(x)
    x = keras.layers.Conv2D(dense.units, grid, activation=dense.activation, name="dense_as_conv")(x)
    outputs = keras.layers.Conv2D(output.units, 1, activation=output.activation, name="probabilities_as_conv")(x)
    model = keras.Model(inputs, outputs, name=f"{classifier.name}_fcn")
    for conv in convs:
        model.get_layer(conv.name).set_weights(conv.get_weights())
    kernel, bias = dense.get_weights()
    model.get_layer("dense_as_conv").set_weights([kernel.reshape(*grid, -1, dense.units), bias])
    kernel, bias = output.get_weights()
    model.get_layer("probabilities_as_conv").set_weights([kernel[None, None], bias])
    return model


def build_detector(
    num_classes=10,
    *,
    channels=1,
    filters=(32, 64, 64),
    kernel_size=3,
    pool_size=2,
    dense_units=64,
    head_kernel=3,
    activation="relu",
    classifier=None,
    seed=None,
    name="digit_detector",
):
    """Build the fully convolutional digit detector.

    The trunk is the article's convolutions; the head is a ``head_kernel``
    convolution (the classifier's dense layer, as a convolution) followed by
    two 1x1 convolutions:

    ``classes``
        per cell, softmax probabilities over ``num_classes + 1`` classes; the
        last one is *background* (no digit centred in this window);
    ``boxes``
        per cell, the digit's box relative to the cell's window:
        ``(top, left, bottom, right) / window`` measured from the window's
        top-left corner.

    Parameters
    ----------
    num_classes : int
        Object classes (10 digits); the background class is added.
    channels : int
        Channels of the input images.
    filters, kernel_size, pool_size, dense_units, activation
        As in :func:`cnn_tutor.models.classifier.build_classifier`.
    head_kernel : int
        Kernel of the first head convolution; 3 matches the 3x3 map that
        the classifier flattens on 28x28 input.
    classifier : keras.Model, optional
        A trained classifier to start from: its trunk, its dense layer and
        its class weights are copied (the background and box outputs start
        from random weights).  It must have the same architecture.
    seed : int, optional
        Seed of the initial weights (``None``: the runtime's seed).
    name : str
        The model's name.

    Returns
    -------
    keras.Model
        Input ``(batch, height, width, channels)`` of any size; outputs a dict
        ``{"classes": (batch, gh, gw, num_classes + 1), "boxes": (batch, gh, gw, 4)}``.
    """
    num_classes = _validation.check_int("num_classes", num_classes, minimum=1)
    channels = _validation.check_int("channels", channels, minimum=1)
    filters = _validation.int_sequence("filters", filters, example=(32, 64, 64))
    kernel_size = _validation.check_int("kernel_size", kernel_size, minimum=1)
    pool_size = _validation.check_int("pool_size", pool_size, minimum=1)
    dense_units = _validation.check_int("dense_units", dense_units, minimum=1)
    head_kernel = _validation.check_int("head_kernel", head_kernel, minimum=1)
    seed_weights(seed)

    inputs = keras.Input(shape=(None, None, channels), name="canvas")
    x = _trunk(inputs, filters, kernel_size, pool_size, activation)
    x = keras.layers.Conv2D(dense_units, head_kernel, activation=activation, name="dense_as_conv")(x)
    classes = keras.layers.Conv2D(num_classes + 1, 1, activation="softmax", name="classes")(x)
    boxes = keras.layers.Conv2D(4, 1, name="boxes")(x)
    model = keras.Model(inputs, {"classes": classes, "boxes": boxes}, name=name)
    if classifier is not None:
        convs = _check_classifier(classifier)
        fcn_shape = (len(convs), int(classifier.output_shape[-1]), _flatten_grid(classifier))
        if fcn_shape != (len(filters), num_classes, (head_kernel, head_kernel)) or int(classifier.input_shape[-1]) != channels:
            raise ValueError(
                "`classifier` must have the detector's architecture: "
                f"{len(filters)} conv layers, {num_classes} classes, a {head_kernel}x{head_kernel} map before Flatten "
                f"and {channels} input channel(s); received {fcn_shape[0]} conv layers, {fcn_shape[1]} classes, "
                f"a {fcn_shape[2][0]}x{fcn_shape[2][1]} map and {int(classifier.input_shape[-1])} channel(s)."
            )
        source = to_fully_convolutional(classifier)
        for layer in convs:
            model.get_layer(layer.name).set_weights(source.get_layer(layer.name).get_weights())
        model.get_layer("dense_as_conv").set_weights(source.get_layer("dense_as_conv").get_weights())
        kernel, bias = model.get_layer("classes").get_weights()
        source_kernel, source_bias = source.get_layer("probabilities_as_conv").get_weights()
        kernel[..., :num_classes], bias[:num_classes] = source_kernel, source_bias
        model.get_layer("classes").set_weights([kernel, bias])
    return model


def geometry_of(detector):
    """The :class:`Geometry` of a model from :func:`build_detector` (read off its layers)."""
    convs = [layer for layer in detector.layers if layer.name.startswith("conv")]
    pools = [layer for layer in detector.layers if layer.name.startswith("pool")]
    return detector_geometry(
        num_conv=len(convs),
        kernel_size=int(convs[0].kernel_size[0]),
        pool_size=int(pools[0].pool_size[0]) if pools else 1,
        head_kernel=int(detector.get_layer("dense_as_conv").kernel_size[0]),
    )


class Detections(typing.NamedTuple):
    """The detections of one image, sorted by decreasing score."""

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray


def decode_detections(class_maps, box_maps, *, geometry, score_threshold=0.5, iou_threshold=0.3, max_detections=20):
    """Turn the detector's maps into boxes: threshold, place, suppress duplicates.

    A cell whose best digit probability exceeds ``score_threshold`` proposes
    a box (its box output, mapped back from window to image coordinates) with
    that digit as its class.  Neighbouring cells usually propose the same
    digit, so non-maximum suppression
    (:func:`cnn_tutor.metrics.non_max_suppression`, over all
    classes at once, since digits do not overlap) keeps the best-scoring box
    among those overlapping by more than ``iou_threshold``.

    Parameters
    ----------
    class_maps : array_like
        ``(n, gh, gw, num_classes + 1)`` probabilities, background last.
    box_maps : array_like
        ``(n, gh, gw, 4)`` boxes relative to each window.
    geometry : Geometry
        From :func:`detector_geometry`.
    score_threshold, iou_threshold : float
        See above.
    max_detections : int
        At most this many boxes per image.

    Returns
    -------
    list of Detections
        One ``(boxes, labels, scores)`` per image.
    """
    class_maps = _validation.as_float_array("class_maps", class_maps)
    box_maps = _validation.as_float_array("box_maps", box_maps)
    if class_maps.ndim != 4 or box_maps.shape != class_maps.shape[:3] + (4,):
        raise ValueError(
            "`class_maps` must be (n, gh, gw, classes) and `box_maps` (n, gh, gw, 4) on the same grid; "
            f"received {class_maps.shape} and {box_maps.shape}."
        )
    score_threshold = _validation.check_float("score_threshold", score_threshold, minimum=0.0, maximum=1.0)
    iou_threshold = _validation.check_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    max_detections = _validation.check_int("max_detections", max_detections, minimum=1)
    digits = class_maps[..., :-1]
    results = []
    for n in range(len(class_maps)):
        scores = digits[n].max(axis=-1)
        rows, cols = np.nonzero(scores > score_threshold)
        origins = np.stack([rows, cols, rows, cols], axis=1).astype(np.float32) * geometry.stride
        boxes = box_maps[n, rows, cols] * geometry.window + origins
        boxes[:, 2] = np.maximum(boxes[:, 2], boxes[:, 0])
        boxes[:, 3] = np.maximum(boxes[:, 3], boxes[:, 1])
        labels = digits[n, rows, cols].argmax(axis=-1).astype(np.int64)
        cell_scores = scores[rows, cols]
        keep = detection_metrics.non_max_suppression(
            boxes, cell_scores, iou_threshold=iou_threshold, max_output_size=max_detections
        )
        results.append(Detections(boxes[keep].astype(np.float32), labels[keep], cell_scores[keep].astype(np.float32)))
    return results


def detect(detector, images, *, score_threshold=0.5, iou_threshold=0.3, max_detections=20, batch_size=64):
    """Run the detector on images and decode its maps (:func:`decode_detections`).

    Raises
    ------
    ValueError
        If the images are not a batch in [0, 1] with the detector's channels,
        or are smaller than one window of the detector.
    """
    images = _validation.check_images("images", images, channels=int(detector.input_shape[-1]))
    geometry = geometry_of(detector)
    if min(images.shape[1:3]) < geometry.window:
        raise ValueError(
            f"`images` must be at least {geometry.window}x{geometry.window} pixels (one window of the detector); "
            f"received shape {images.shape}."
        )
    outputs = detector.predict(images, batch_size=batch_size, verbose=0)
    return decode_detections(
        outputs["classes"],
        outputs["boxes"],
        geometry=geometry,
        score_threshold=score_threshold,
        iou_threshold=iou_threshold,
        max_detections=max_detections,
    )
