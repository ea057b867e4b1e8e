"""From classification to detection: the classifier's trunk as a fully convolutional detector.

The article lists object detection (目标检测) among the applications of CNNs
but shows no code.  The idea used here is the one of OverFeat and of fully
convolutional networks: a ``Dense`` layer on a flattened ``h x w x c`` map is
the same computation as an ``h x w`` convolution with no padding, so the
classifier can be rewritten as a network of convolutions only, which accepts
a canvas of any size and outputs a *map* of class scores, one per window
position (:func:`to_fully_convolutional`).  The detector
(:func:`build_detector`) adds a background class and a box head, is
initialised from a trained classifier and fine-tuned on canvases
(:func:`train_detector`); :func:`decode_detections` turns its maps into boxes
with non-maximum suppression, and :func:`evaluate_detections` scores them.

Boxes are ``(top, left, bottom, right)`` in pixels with ``bottom`` and
``right`` exclusive, as in ``cnn_tutor.data.detection``.

Used by the Keras models chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = [
    "DetectionScore",
    "Geometry",
    "box_iou",
    "build_detector",
    "decode_detections",
    "detect",
    "detector_geometry",
    "encode_targets",
    "evaluate_detections",
    "to_fully_convolutional",
    "train_detector",
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

    The receptive field grows by ``(k - 1) * jump`` at each layer with kernel
    ``k``, and the jump (distance in input pixels between two neighbouring
    cells) is multiplied by each layer's stride.

    Examples
    --------
    >>> detector_geometry()  # the article's trunk: every cell sees 26x26 pixels, 4 apart
    Geometry(stride=4, window=26)
    """
    field, jump = 1, 1
    for index in range(num_conv):
        field, jump = field + (kernel_size - 1) * jump, jump
        if index < num_conv - 1:
            field, jump = field + (pool_size - 1) * jump, jump * pool_size
    field += (head_kernel - 1) * jump
    return Geometry(stride=jump, window=field)


def _trunk(keras, x, filters, kernel_size, pool_size, activation):
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
    import keras

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
        Seed Keras before the weights are created.
    name : str
        The model's name.

    Returns
    -------
    keras.Model
        Input ``(batch, height, width, channels)`` of any size; outputs a dict
        ``{"classes": (batch, gh, gw, num_classes + 1), "boxes": (batch, gh, gw, 4)}``.
    """
    import keras

    num_classes = _validation.check_int("num_classes", num_classes, minimum=1)
    channels = _validation.check_int("channels", channels, minimum=1)
    filters = tuple(_validation.check_int(f"filters[{i}]", f, minimum=1) for i, f in enumerate(filters))
    kernel_size = _validation.check_int("kernel_size", kernel_size, minimum=1)
    pool_size = _validation.check_int("pool_size", pool_size, minimum=1)
    dense_units = _validation.check_int("dense_units", dense_units, minimum=1)
    head_kernel = _validation.check_int("head_kernel", head_kernel, minimum=1)
    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))

    inputs = keras.Input(shape=(None, None, channels), name="canvas")
    x = _trunk(keras, inputs, filters, kernel_size, pool_size, activation)
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


def encode_targets(boxes, labels, *, image_size, geometry, num_classes=10, positive_radius=2.0, ignore_radius=5.0):
    """Turn ground-truth boxes into the dense targets of the detector's two maps.

    A cell is *positive* for a digit when the centre of its window lies
    within ``positive_radius`` pixels (in both directions) of the centre of
    the digit's box: its class target is the digit and its box target the
    digit's box relative to the window.  Cells between ``positive_radius``
    and ``ignore_radius`` from a digit are ignored (they see most of the
    digit, so neither "digit" nor "background" is fair); all other cells are
    background (class ``num_classes``).

    Parameters
    ----------
    boxes, labels : sequence of arrays
        Per image, ``(k, 4)`` boxes and ``(k,)`` labels (a
        :class:`~cnn_tutor.data.DetectionSet`'s fields).
    image_size : int
        Side of the (square) images.
    geometry : Geometry
        From :func:`detector_geometry`.
    num_classes : int
        Object classes; background is ``num_classes``.
    positive_radius, ignore_radius : float
        See above.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``classes``: float32 ``(n, gh, gw, 1)``, the class index, or -1 for
        ignored cells; ``boxes``: float32 ``(n, gh, gw, 5)``, the four box
        coordinates divided by the window side, and 1 where the cell is
        positive (0 elsewhere).
    """
    if len(boxes) != len(labels):
        raise ValueError(f"`boxes` and `labels` must have one entry per image; received {len(boxes)} and {len(labels)}.")
    size = geometry.map_size(image_size)
    origins = np.arange(size, dtype=np.float32) * geometry.stride
    centres = origins + geometry.window / 2
    class_map = np.full((len(boxes), size, size, 1), num_classes, dtype=np.float32)
    box_map = np.zeros((len(boxes), size, size, 5), dtype=np.float32)
    for n, (image_boxes, image_labels) in enumerate(zip(boxes, labels)):
        image_boxes = np.asarray(image_boxes, dtype=np.float32).reshape(-1, 4)
        image_labels = _validation.check_labels(f"labels[{n}]", image_labels, num_classes=num_classes, length=len(image_boxes))
        best = np.full((size, size), np.inf, dtype=np.float32)
        for box, label in zip(image_boxes, image_labels):
            dy = np.abs(centres[:, None] - (box[0] + box[2]) / 2)
            dx = np.abs(centres[None, :] - (box[1] + box[3]) / 2)
            distance = np.maximum(dy, dx)
            near = distance <= ignore_radius
            class_map[n, near & (class_map[n, ..., 0] == num_classes), 0] = -1
            positive = (distance <= positive_radius) & (distance < best)
            best = np.where(positive, distance, best)
            class_map[n, positive, 0] = label
            rows, cols = np.nonzero(positive)
            relative = box[None] - np.stack([origins[rows], origins[cols], origins[rows], origins[cols]], axis=1)
            box_map[n, rows, cols, :4] = relative / geometry.window
            box_map[n, rows, cols, 4] = 1.0
    return class_map, box_map


def _class_loss(y_true, y_pred):
    """Cross-entropy of the class map, balanced between digit cells and background cells.

    Background cells outnumber digit cells about 30 to 1 on a 64x64 canvas;
    a plain average lets "everything is background" win.  So the mean over
    the digit cells and the mean over the background cells are added, and
    ignored cells (target -1) count in neither.
    """
    import keras

    ops = keras.ops
    target = y_true[..., 0]
    background = ops.shape(y_pred)[-1] - 1
    is_digit = ops.cast((target >= 0) & (target < ops.cast(background, target.dtype)), y_pred.dtype)
    is_background = ops.cast(target == ops.cast(background, target.dtype), y_pred.dtype)
    safe = ops.cast(ops.maximum(target, 0), "int32")
    probs = ops.clip(y_pred, 1e-7, 1.0)
    picked = ops.sum(ops.one_hot(safe, ops.shape(y_pred)[-1], dtype=y_pred.dtype) * probs, axis=-1)
    loss = -ops.log(picked)

    def mean_over(mask):
        return ops.sum(loss * mask, axis=(1, 2)) / ops.maximum(ops.sum(mask, axis=(1, 2)), 1.0)

    return mean_over(is_digit) + mean_over(is_background)


def _box_loss(y_true, y_pred):
    """Huber loss on the box coordinates of the positive cells, averaged per image."""
    import keras

    ops = keras.ops
    mask = y_true[..., 4]
    error = ops.abs(y_true[..., :4] - y_pred)
    huber = ops.where(error < 0.1, 0.5 * error**2 / 0.1, error - 0.05)
    loss = ops.sum(huber, axis=-1) * mask
    return ops.sum(loss, axis=(1, 2)) / ops.maximum(ops.sum(mask, axis=(1, 2)), 1.0)


def train_detector(
    detector,
    dataset,
    *,
    epochs,
    batch_size=32,
    learning_rate=1e-3,
    box_weight=5.0,
    seed=0,
    positive_radius=2.0,
    ignore_radius=5.0,
):
    """Compile and fine-tune the detector on a :class:`~cnn_tutor.data.DetectionSet`.

    The loss is the cross-entropy of the class map over the cells that are
    not ignored plus ``box_weight`` times a Huber loss on the boxes of the
    positive cells (see :func:`encode_targets`).

    Returns
    -------
    dict
        ``History.history`` (losses per epoch).
    """
    import keras

    epochs = _validation.check_int("epochs", epochs, minimum=1)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    seed = _validation.check_int("seed", seed, minimum=0)
    learning_rate = _validation.check_float("learning_rate", learning_rate, minimum=0.0)
    box_weight = _validation.check_float("box_weight", box_weight, minimum=0.0)
    images = _validation.check_images("dataset.images", dataset.images, channels=int(detector.input_shape[-1]))
    num_classes = int(detector.get_layer("classes").filters) - 1
    geometry = _geometry_of(detector)
    classes, boxes = encode_targets(
        dataset.boxes,
        dataset.labels,
        image_size=images.shape[1],
        geometry=geometry,
        num_classes=num_classes,
        positive_radius=positive_radius,
        ignore_radius=ignore_radius,
    )
    import tensorflow as tf

    # Images and targets in one dataset, so one shuffle keeps them paired.
    data = tf.data.Dataset.from_tensor_slices((images, {"classes": classes, "boxes": boxes})).cache()
    data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    detector.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss={"classes": _class_loss, "boxes": _box_loss},
        loss_weights={"classes": 1.0, "boxes": box_weight},
    )
    history = detector.fit(data, epochs=epochs, verbose=0, shuffle=False)
    return dict(history.history)


def _geometry_of(detector):
    convs = [layer for layer in detector.layers if layer.name.startswith("conv")]
    pools = [layer for layer in detector.layers if layer.name.startswith("pool")]
    return detector_geometry(
        num_conv=len(convs),
        kernel_size=int(convs[0].kernel_size[0]),
        pool_size=int(pools[0].pool_size[0]) if pools else 1,
        head_kernel=int(detector.get_layer("dense_as_conv").kernel_size[0]),
    )


def box_iou(boxes_a, boxes_b):
    """Intersection over union of every pair of boxes.

    Parameters
    ----------
    boxes_a, boxes_b : array_like
        ``(n, 4)`` and ``(m, 4)`` boxes ``(top, left, bottom, right)``.

    Returns
    -------
    numpy.ndarray
        float64 ``(n, m)``.

    Examples
    --------
    >>> box_iou([[0, 0, 10, 10]], [[0, 5, 10, 15], [20, 20, 30, 30]]).round(3)
    array([[0.333, 0.   ]])
    """
    a = _validation.as_float_array("boxes_a", boxes_a).reshape(-1, 4)
    b = _validation.as_float_array("boxes_b", boxes_b).reshape(-1, 4)
    for name, boxes in (("boxes_a", a), ("boxes_b", b)):
        if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
            raise ValueError(f"`{name}` must be (top, left, bottom, right) with bottom >= top and right >= left.")
    top = np.maximum(a[:, None, 0], b[None, :, 0])
    left = np.maximum(a[:, None, 1], b[None, :, 1])
    bottom = np.minimum(a[:, None, 2], b[None, :, 2])
    right = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(bottom - top, 0, None) * np.clip(right - left, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


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
    digit, so non-maximum suppression (``tf.image.non_max_suppression``,
    over all classes at once, since digits do not overlap) keeps the
    best-scoring box among those overlapping by more than ``iou_threshold``.

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
    import tensorflow as tf

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
        if len(boxes):
            keep = tf.image.non_max_suppression(
                boxes, cell_scores, max_output_size=max_detections, iou_threshold=iou_threshold
            ).numpy()
        else:
            keep = np.zeros(0, dtype=np.int64)
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
    geometry = _geometry_of(detector)
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


class DetectionScore(typing.NamedTuple):
    """What :func:`evaluate_detections` returns."""

    #: Share of ground-truth objects found with IoU >= the threshold and the right class.
    recall: float
    #: Detections that match no object, per image.
    false_positives_per_image: float
    #: Objects found, objects in total, unmatched detections, images.
    found: int
    total: int
    false_positives: int
    images: int


def evaluate_detections(detections, dataset, *, iou_threshold=0.5, match_class=True):
    """Match detections to the ground truth and count hits and false positives.

    Detections are taken in order of decreasing score; each one is matched to
    the not-yet-matched object of the *same class* with which it has the
    largest IoU, if that IoU is at least ``iou_threshold``.  Unmatched
    detections are false positives (a right box with the wrong class is a
    false positive and a missed object).

    Parameters
    ----------
    detections : list of :class:`Detections`
        From :func:`detect`, one per image.
    dataset : DetectionSet
        The ground truth.
    iou_threshold : float
        The usual 0.5.
    match_class : bool
        Require the right class; ``False`` scores localisation alone.

    Returns
    -------
    DetectionScore

    Examples
    --------
    >>> import types
    >>> truth = types.SimpleNamespace(boxes=[np.array([[0, 0, 10, 10]])], labels=[np.array([3])])
    >>> found = [types.SimpleNamespace(boxes=np.array([[1, 0, 11, 10]]), labels=np.array([5]), scores=np.array([0.9]))]
    >>> evaluate_detections(found, truth).recall, evaluate_detections(found, truth, match_class=False).recall
    (0.0, 1.0)
    """
    if len(detections) != len(dataset.boxes):
        raise ValueError(
            f"`detections` must have one entry per image ({len(dataset.boxes)}); received {len(detections)}."
        )
    iou_threshold = _validation.check_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    found = false_positives = total = 0
    for found_here, truth_boxes, truth_labels in zip(detections, dataset.boxes, dataset.labels):
        total += len(truth_boxes)
        matched = np.zeros(len(truth_boxes), dtype=bool)
        order = np.argsort(-np.asarray(found_here.scores), kind="stable")
        ious = box_iou(np.asarray(found_here.boxes).reshape(-1, 4), truth_boxes)
        for index in order:
            candidates = ~matched
            if match_class:
                candidates = candidates & (np.asarray(truth_labels) == found_here.labels[index])
            overlap = np.where(candidates, ious[index], -1.0)
            best = int(np.argmax(overlap)) if len(overlap) else -1
            if best >= 0 and overlap[best] >= iou_threshold:
                matched[best] = True
                found += 1
            else:
                false_positives += 1
    images = len(detections)
    return DetectionScore(
        recall=found / total if total else float("nan"),
        false_positives_per_image=false_positives / images if images else float("nan"),
        found=found,
        total=total,
        false_positives=false_positives,
        images=images,
    )
