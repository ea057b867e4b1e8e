"""The source article's MNIST classifier, and tools to look inside it.

The article (section 4.2) builds a small convolutional network::

    Conv2D(32, 3x3, relu) - MaxPool(2x2) - Conv2D(64, 3x3, relu) - MaxPool(2x2)
    - Conv2D(64, 3x3, relu) - Flatten - Dense(64, relu) - Dense(10, softmax)

:func:`build_classifier` reproduces it exactly with its hyperparameters as
arguments, :func:`build_dense_classifier` is the fully connected network it
is compared with.  :func:`predict_classes`, :func:`feature_maps` and
:func:`filter_symmetry` look at what a trained one does.  Training is
:func:`cnn_tutor.models.training.train_classifier`, the scores are in
:mod:`cnn_tutor.metrics`, the trained model's cache in
:mod:`cnn_tutor.models.cache`.

Used by the Convolution math, Keras models, Generation, FAQ and Future
directions chapters.
"""

import keras
import numpy as np

from cnn_tutor import _validation, shapes
from cnn_tutor.models._common import seed_weights

__all__ = [
    "build_classifier",
    "build_dense_classifier",
    "feature_maps",
    "filter_symmetry",
    "predict_classes",
]


def _conv_out(size, kernel, stride, padding):
    """The layer's output size (:func:`cnn_tutor.shapes.conv_output_size`), 0 where nothing fits."""
    try:
        return shapes.conv_output_size(size, kernel, stride=stride, padding=padding)
    except ValueError:  # the kernel no longer fits: the feature map has shrunk to nothing
        return 0


def build_classifier(
    input_shape=(28, 28, 1),
    num_classes=10,
    *,
    filters=(32, 64, 64),
    kernel_size=3,
    strides=1,
    padding="valid",
    pool_size=2,
    dense_units=64,
    activation="relu",
    dropout=0.0,
    optimizer="adam",
    compile=True,
    seed=None,
    name="article_cnn",
):
    """Build (and compile) the article's convolutional classifier.

    With the defaults this is exactly the model of the article's section 4.2:
    three 3x3 convolutions with 32, 64 and 64 filters, ``relu``, a 2x2 max
    pooling after the first two, then ``Flatten``, ``Dense(64, relu)`` and
    ``Dense(10, softmax)``: 93,322 parameters on 28x28x1 input.

    Parameters
    ----------
    input_shape : (int, int, int)
        ``(height, width, channels)`` of the input images.
    num_classes : int
        Number of classes (units of the softmax layer).
    filters : sequence of int
        Filters of each convolution layer; one pooling layer follows every
        convolution but the last.
    kernel_size, strides : int or sequence of int
        Square kernel size and stride of each convolution (an int applies to
        all of them).
    padding : {"valid", "same"}
        Padding of the convolutions (the article uses ``"valid"``).
    pool_size : int
        Size and stride of the max-pooling windows.
    dense_units : int
        Units of the hidden dense layer.
    activation : str
        Activation of the hidden layers.
    dropout : float
        Rate of a ``Dropout`` layer after ``Flatten`` and after the hidden
        dense layer, in [0, 1) (0: none, as in the article).
    optimizer : str or keras.optimizers.Optimizer
        Passed to ``compile`` (the article uses ``"adam"``).
    compile : bool
        Compile with ``sparse_categorical_crossentropy`` and accuracy.
    seed : int, optional
        Seed Keras (``keras.utils.set_random_seed``) before the weights are
        created, so the same arguments give the same initial weights;
        ``None`` means the runtime's seed (:func:`cnn_tutor.runtime.current_seed`).
    name : str
        The model's name.

    Returns
    -------
    keras.Model
        A functional model from ``(batch, *input_shape)`` images to class
        probabilities ``(batch, num_classes)``.

    Raises
    ------
    ValueError
        If a hyperparameter is out of range, or the feature map shrinks to
        nothing before ``Flatten`` (the message suggests a fix).

    Examples
    --------
    >>> model = build_classifier()
    >>> model.count_params()
    93322
    >>> [layer.__class__.__name__ for layer in model.layers[1:4]]
    ['Conv2D', 'MaxPooling2D', 'Conv2D']
    >>> build_classifier(kernel_size=7)
    Traceback (most recent call last):
    ...
    ValueError: The feature map shrinks to nothing: after conv layer 3 (kernel_size=7, strides=1, padding='valid') the spatial size is (0, 0). Consider a smaller `kernel_size` or `strides`, padding='same', or a larger `input_shape`.
    """
    input_shape = _validation.check_shape3("input_shape", input_shape, example=(28, 28, 1))
    num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
    filters = _validation.int_sequence("filters", filters, example=(32, 64, 64))
    kernels = _validation.per_layer("kernel_size", kernel_size, len(filters))
    stride_list = _validation.per_layer("strides", strides, len(filters))
    _validation.check_choice("padding", padding, ("valid", "same"))
    pool_size = _validation.check_int("pool_size", pool_size, minimum=1)
    dense_units = _validation.check_int("dense_units", dense_units, minimum=1)
    dropout = _validation.check_float("dropout", dropout, minimum=0.0)
    if dropout >= 1:
        raise ValueError(f"`dropout` must be below 1 (the share of units dropped); received {dropout}.")
    seed_weights(seed)

    # Check the spatial sizes before Keras does, to say what to change.
    height, width = input_shape[:2]
    for index, (kernel, stride) in enumerate(zip(kernels, stride_list)):
        height, width = _conv_out(height, kernel, stride, padding), _conv_out(width, kernel, stride, padding)
        where = f"conv layer {index + 1} (kernel_size={kernel}, strides={stride}, padding={padding!r})"
        if index < len(filters) - 1 and min(height, width) >= 1:
            height, width = height // pool_size, width // pool_size
            where += f" and its {pool_size}x{pool_size} pooling"
        if min(height, width) < 1:
            raise ValueError(
                f"The feature map shrinks to nothing: after {where} the spatial size is "
                f"({max(height, 0)}, {max(width, 0)}). Consider a smaller `kernel_size` or `strides`, "
                "padding='same', or a larger `input_shape`."
            )

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for index, (units, kernel, stride) in enumerate(zip(filters, kernels, stride_list)):
        x = keras.layers.Conv2D(
            units, kernel, strides=stride, padding=padding, activation=activation, name=f"conv{index + 1}"
        )(x)
        if index < len(filters) - 1:
            x = keras.layers.MaxPooling2D(pool_size, name=f"pool{index + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout1")(x)
    x = keras.layers.Dense(dense_units, activation=activation, name="dense")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout2")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=name)
    if compile:
        # Keywords, not positions: in Keras 3 the third positional argument
        # of compile() is `loss_weights`, not `metrics`.
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_dense_classifier(
    input_shape=(28, 28, 1),
    num_classes=10,
    *,
    hidden_units=(64,),
    activation="relu",
    optimizer="adam",
    compile=True,
    seed=None,
    name="dense_net",
):
    """Build a fully connected classifier (a multilayer perceptron) on flattened images.

    The comparison point for the convolutional classifier: every hidden unit
    sees every pixel, and no weight is shared between positions.

    Parameters
    ----------
    input_shape : (int, int, int)
        ``(height, width, channels)``.
    num_classes : int
        Units of the softmax layer.
    hidden_units : sequence of int
        Units of each hidden ``Dense`` layer.
    activation, optimizer, compile, seed, name
        As in :func:`build_classifier`.

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> build_dense_classifier(hidden_units=(64,)).count_params()  # (784 + 1) * 64 + (64 + 1) * 10
    50890
    """
    input_shape = _validation.check_shape3("input_shape", input_shape, example=(28, 28, 1))
    num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
    hidden_units = _validation.int_sequence("hidden_units", hidden_units, example=(64,), allow_empty=True)
    seed_weights(seed)
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Flatten(name="flatten")(inputs)
    for index, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation=activation, name=f"dense{index + 1}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=name)
    if compile:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def predict_classes(model, images, *, batch_size=256):
    """Class index of each image: the argmax of the model's probabilities.

    Returns
    -------
    numpy.ndarray
        int64 ``(n,)``.

    Raises
    ------
    ValueError
        If ``images`` do not fit the model's input, for example RGB images
        given to a classifier built for 28x28x1.
    """
    images = _validation.check_model_input(model, images)
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    return np.asarray(probabilities).argmax(axis=-1).astype(np.int64)


def feature_maps(model, image):
    """The activations of every convolution and pooling layer for one image.

    Parameters
    ----------
    model : keras.Model
        A functional classifier such as :func:`build_classifier` returns.
    image : array_like
        One image ``(height, width, channels)`` or a batch of one.

    Returns
    -------
    dict
        Layer name -> ``(height, width, channels)`` float32 activations, in
        the order of the layers.
    """
    array = _validation.as_float_array("image", image)
    if array.ndim == 3:
        array = array[None]
    array = _validation.check_model_input(model, array, "image")
    if len(array) != 1:
        raise ValueError(f"`image` must be one image; received a batch of {len(array)}. Use `images[i]`.")
    layers = [layer for layer in model.layers if len(getattr(layer, "output").shape) == 4 and layer is not model.layers[0]]
    if not layers:
        raise ValueError(f"Model {model.name!r} has no layers with 4-D (spatial) outputs.")
    probe = keras.Model(model.input, [layer.output for layer in layers])
    outputs = probe(array, training=False)
    return {layer.name: np.asarray(out)[0] for layer, out in zip(layers, outputs)}


def filter_symmetry(kernels):
    """How symmetric each filter is under a 180-degree rotation, from 0 to 1.

    The article claims filters are "usually symmetric", ``f[-i, -j] = f[i, j]``.
    Split each filter into a symmetric and an antisymmetric part,
    ``f = s + a`` with ``s = (f + rot180(f)) / 2`` and
    ``a = (f - rot180(f)) / 2``; the two are orthogonal, and the index is
    ``||s||^2 / ||f||^2``: 1 for a symmetric filter (Gaussian), 0 for an
    antisymmetric one (Sobel), about ``(k*k + 1) / (2*k*k)`` on average for
    random ``k x k`` filters (5/9 for 3x3).

    Parameters
    ----------
    kernels : array_like
        ``(kh, kw)`` for one filter, or a Keras kernel ``(kh, kw, in, out)``
        (each input-output pair is one filter).

    Returns
    -------
    numpy.ndarray
        float64 index per filter, ``(in, out)`` for a Keras kernel.

    Examples
    --------
    >>> sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    >>> float(filter_symmetry(sobel))
    0.0
    >>> float(filter_symmetry(np.outer([1, 2, 1], [1, 2, 1])))
    1.0
    """
    array = _validation.as_float_array("kernels", kernels)
    if array.ndim not in (2, 4):
        raise ValueError(
            f"`kernels` must be 2-D (kh, kw) or 4-D (kh, kw, in_channels, out_channels); received shape {array.shape}."
        )
    rotated = array[::-1, ::-1]
    symmetric = (array + rotated) / 2
    total = (array**2).sum(axis=(0, 1))
    if np.any(total == 0):
        raise ValueError("`kernels` contains an all-zero filter, whose symmetry is undefined.")
    return (symmetric**2).sum(axis=(0, 1)) / total
