"""The source article's MNIST classifier, trained for real, and tools to look inside it.

The article (section 4.2) builds a small convolutional network::

    Conv2D(32, 3x3, relu) - MaxPool(2x2) - Conv2D(64, 3x3, relu) - MaxPool(2x2)
    - Conv2D(64, 3x3, relu) - Flatten - Dense(64, relu) - Dense(10, softmax)

:func:`build_classifier` reproduces it exactly with its hyperparameters as
arguments; :func:`train_classifier` trains it on a real ``tf.data`` pipeline;
:func:`load_or_train_classifier` gives later chapters (Generation) the same
trained model from a cache in the native ``.keras`` format.

Used by the Keras models and Generation chapters.
"""

import hashlib
import json
import os
import pathlib
import time
import typing

import numpy as np

from cnn_tutor import _validation, shapes

__all__ = [
    "TrainingRun",
    "accuracy",
    "build_classifier",
    "build_dense_classifier",
    "cache_dir",
    "classifier_path",
    "confusion_matrix",
    "count_macs",
    "feature_maps",
    "filter_symmetry",
    "load_or_train_classifier",
    "predict_classes",
    "save_classifier",
    "train_classifier",
]

#: Environment variable that moves the model cache (default ``~/.cache/cnn_tutor``).
CACHE_ENV = "CNN_TUTOR_CACHE"


def _per_layer(name, value, count):
    """An int (same for every conv layer) or a sequence of ``count`` ints, each >= 1."""
    if isinstance(value, (tuple, list)):
        if len(value) != count:
            raise ValueError(
                f"`{name}` must be an int or a sequence of {count} ints (one per conv layer); received {value!r}."
            )
        return tuple(_validation.check_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(value))
    value = _validation.check_int(name, value, minimum=1)
    return (value,) * count


def _check_input_shape(input_shape):
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(
            f"`input_shape` must be (height, width, channels), for MNIST (28, 28, 1); received {input_shape!r}."
        )
    return tuple(_validation.check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(input_shape))


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
    optimizer : str or keras.optimizers.Optimizer
        Passed to ``compile`` (the article uses ``"adam"``).
    compile : bool
        Compile with ``sparse_categorical_crossentropy`` and accuracy.
    seed : int, optional
        Seed Keras (``keras.utils.set_random_seed``) before the weights are
        created, so the same arguments give the same initial weights.
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
    import keras

    input_shape = _check_input_shape(input_shape)
    num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
    if isinstance(filters, (int, np.integer)) or not isinstance(filters, (tuple, list)) or len(filters) == 0:
        raise ValueError(f"`filters` must be a non-empty sequence of ints, e.g. (32, 64, 64); received {filters!r}.")
    filters = tuple(_validation.check_int(f"filters[{i}]", f, minimum=1) for i, f in enumerate(filters))
    kernels = _per_layer("kernel_size", kernel_size, len(filters))
    stride_list = _per_layer("strides", strides, len(filters))
    _validation.check_choice("padding", padding, ("valid", "same"))
    pool_size = _validation.check_int("pool_size", pool_size, minimum=1)
    dense_units = _validation.check_int("dense_units", dense_units, minimum=1)
    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))

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
    x = keras.layers.Dense(dense_units, activation=activation, name="dense")(x)
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
    import keras

    input_shape = _check_input_shape(input_shape)
    num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
    if not isinstance(hidden_units, (tuple, list)):
        raise ValueError(f"`hidden_units` must be a sequence of ints, e.g. (64,); received {hidden_units!r}.")
    hidden_units = tuple(_validation.check_int(f"hidden_units[{i}]", u, minimum=1) for i, u in enumerate(hidden_units))
    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Flatten(name="flatten")(inputs)
    for index, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation=activation, name=f"dense{index + 1}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=name)
    if compile:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def count_macs(model):
    """Multiply-accumulate operations (MACs) per image of the model's convolution and dense layers.

    A convolution does one multiply-accumulate per kernel weight at each
    output position, ``out_h * out_w * k_h * k_w * C_in * C_out``; a dense
    layer one per weight, ``N_in * N_out``.  Biases, activations and pooling
    are not counted (they are a small share of the work).  This is
    :func:`cnn_tutor.models.efficiency.count_macs`, which also counts
    depthwise, separable and transposed convolutions.

    Examples
    --------
    >>> count_macs(build_classifier(compile=False))  # 26*26*9*32 + 11*11*288*64 + 3*3*576*64 + 576*64 + 64*10
    2794240
    """
    from cnn_tutor.models import efficiency

    return efficiency.count_macs(model)


class TrainingRun(typing.NamedTuple):
    """What :func:`train_classifier` returns."""

    #: The trained model (the same object that was passed in).
    model: typing.Any
    #: ``History.history``: loss and accuracy per epoch (running averages over the epoch).
    history: dict
    #: Wall-clock seconds of each epoch.
    epoch_seconds: tuple


def _check_model_input(model, images, name="images"):
    """Check that ``images`` fit the model's input shape (channels included)."""
    expected = tuple(model.input_shape[1:])
    images = _validation.check_images(name, images)
    received = images.shape[1:]
    mismatch = any(e is not None and e != r for e, r in zip(expected, received))
    if mismatch:
        hint = ""
        if expected[-1] == 1 and received[-1] == 3:
            hint = " Convert RGB to grayscale first, e.g. `images.mean(axis=-1, keepdims=True)`."
        elif expected[-1] == 3 and received[-1] == 1:
            hint = " Repeat the channel, e.g. `np.repeat(images, 3, axis=-1)`."
        raise ValueError(
            f"`{name}` must have shape (batch, {', '.join(str(e) for e in expected)}) for model "
            f"{model.name!r}; received shape {images.shape}.{hint}"
        )
    return images


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


def train_classifier(model, data, *, epochs, batch_size=64, seed=0, callbacks=(), strategy=None):
    """Train a compiled classifier with ``fit`` on a ``tf.data`` pipeline, timing each epoch.

    Parameters
    ----------
    model : keras.Model
        A compiled classifier (for example from :func:`build_classifier`).
    data : MNIST or tf.data.Dataset
        An MNIST split from :func:`cnn_tutor.data.load_mnist` (its training
        part goes through :func:`cnn_tutor.data.make_mnist_datasets` with
        ``batch_size`` and ``seed``), or a ready pipeline of
        ``(images, labels)`` batches.
    epochs : int
        Passes over the training set.
    batch_size : int
        Images per batch (for an MNIST split).
    seed : int
        Seed of the shuffle (for an MNIST split).
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks for ``fit``.
    strategy : tf.distribute.Strategy, optional
        Train data-parallel with this strategy (for example from
        :func:`cnn_tutor.distribute.make_strategy`).  The model must have
        been built and compiled inside ``with strategy.scope():``;
        ``batch_size`` is then the *global* batch, which ``fit`` splits
        between the replicas (Keras distributes the pipeline).

    Returns
    -------
    TrainingRun
        ``(model, history, epoch_seconds)``.

    Raises
    ------
    TypeError
        If ``strategy`` is not a ``tf.distribute.Strategy``.
    ValueError
        If the images do not fit the model's input or labels are out of
        range, or the model was not built under ``strategy.scope()``.
    """
    from cnn_tutor import distribute
    from cnn_tutor.data import pipelines

    distribute.check_strategy(model, strategy)
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    if hasattr(data, "x_train"):
        _check_model_input(model, data.x_train, "data.x_train")
        num_classes = int(model.output_shape[-1])
        data, _ = pipelines.make_mnist_datasets(data, batch_size=batch_size, seed=seed, num_classes=num_classes)
    elif not hasattr(data, "element_spec"):
        raise TypeError(
            "`data` must be an MNIST split from cnn_tutor.data.load_mnist() or a tf.data.Dataset of "
            f"(images, labels) batches; received {type(data).__name__}."
        )
    timer = _epoch_timer()
    # shuffle=False: the pipeline already reshuffles every epoch (Keras would warn otherwise).
    history = model.fit(data, epochs=epochs, verbose=0, shuffle=False, callbacks=[timer, *callbacks])
    return TrainingRun(model=model, history=dict(history.history), epoch_seconds=tuple(timer.seconds))


def predict_classes(model, images, *, batch_size=256):
    """Class index of each image: the argmax of the model's probabilities.

    Raises
    ------
    ValueError
        If ``images`` do not fit the model's input, for example RGB images
        given to a classifier built for 28x28x1.
    """
    images = _check_model_input(model, images)
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    return np.asarray(probabilities).argmax(axis=-1).astype(np.int64)


def accuracy(model, images, labels, *, batch_size=256):
    """Share of ``images`` whose predicted class equals ``labels``.

    Raises
    ------
    ValueError
        If the images do not fit the model, or labels are out of range.
    """
    images = _check_model_input(model, images)
    labels = _validation.check_labels("labels", labels, num_classes=int(model.output_shape[-1]), length=len(images))
    return float(np.mean(predict_classes(model, images, batch_size=batch_size) == labels))


def confusion_matrix(y_true, y_pred, *, num_classes=10):
    """Counts of (true class, predicted class) pairs (``tf.math.confusion_matrix``).

    Returns
    -------
    numpy.ndarray
        int64 ``(num_classes, num_classes)``; row ``i``, column ``j`` counts
        images of class ``i`` predicted as ``j``.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2)
    array([[1, 0],
           [1, 1]])
    """
    import tensorflow as tf

    num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
    y_true = _validation.check_labels("y_true", y_true, num_classes=num_classes)
    y_pred = _validation.check_labels("y_pred", y_pred, num_classes=num_classes, length=len(y_true))
    return tf.math.confusion_matrix(y_true, y_pred, num_classes=num_classes).numpy().astype(np.int64)


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
    import keras

    array = _validation.as_float_array("image", image)
    if array.ndim == 3:
        array = array[None]
    array = _check_model_input(model, array, "image")
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


def cache_dir():
    """Directory of the model cache: ``$CNN_TUTOR_CACHE`` or ``~/.cache/cnn_tutor`` (outside the repository)."""
    return pathlib.Path(os.environ.get(CACHE_ENV) or pathlib.Path.home() / ".cache" / "cnn_tutor")


def _cache_key(mnist, hyperparameters):
    import keras
    import tensorflow as tf

    digest = hashlib.sha256()
    for array in (mnist.x_train, mnist.y_train):
        digest.update(np.ascontiguousarray(array).tobytes())
    description = dict(
        hyperparameters,
        data=digest.hexdigest(),
        source=str(getattr(mnist, "source", "")),
        keras=keras.__version__,
        tensorflow=tf.__version__,
    )
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:16]


def classifier_path(mnist, *, epochs, seed=0, batch_size=64):
    """Where :func:`load_or_train_classifier` keeps the model trained with these settings.

    The name is a hash of the training data, the settings and the Keras and
    TensorFlow versions, under :func:`cache_dir` (outside the repository).
    """
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    seed = _validation.check_int("seed", seed, minimum=0)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    key = _cache_key(mnist, {"model": "article_cnn", "epochs": epochs, "seed": seed, "batch_size": batch_size})
    return cache_dir() / f"article_cnn-{key}.keras"


def save_classifier(model, path):
    """Save a model in Keras's native ``.keras`` format, atomically (no reader sees half a file).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.keras``.
    """
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"`path` must end in '.keras' (Keras's native format); received {str(path)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.partial-{os.getpid()}.keras")
    model.save(partial)
    os.replace(partial, path)
    return path


def load_or_train_classifier(mnist, *, epochs, path=None, seed=0, batch_size=64, retrain=False, verbose=False):
    """The article's classifier trained on ``mnist``: loaded from the cache, or trained and saved.

    The model is saved in Keras's native ``.keras`` format (no pickle) and
    loaded with ``keras.saving.load_model(path, safe_mode=True)``.  By
    default the file is :func:`classifier_path`, whose name is derived from
    the training data, the settings and the library versions, so a model
    trained on other data or with another budget is never picked up by
    mistake.  Training is reproducible: ``build_classifier(seed=seed)`` then
    ``train_classifier(model, mnist, epochs=epochs, batch_size=batch_size,
    seed=seed)``, with TensorFlow's op determinism on (``cnn_tutor.setup()``),
    gives the same model on the same machine.

    Parameters
    ----------
    mnist : MNIST
        The split from :func:`cnn_tutor.data.load_mnist`.
    epochs : int
        Training epochs (ask the runtime: ``rt.epochs(quick=..., full=...)``).
    path : str or pathlib.Path, optional
        Where to keep the model (must end in ``.keras``); default: the cache.
    seed : int
        Seed of the weights and the shuffle.
    batch_size : int
        Images per batch.
    retrain : bool
        Train (and overwrite the file) even if it exists.
    verbose : bool
        Print one line saying whether the model was loaded or trained.  Off
        by default: which of the two happens depends on what earlier runs
        left in the cache, and a chapter's output must not.

    Returns
    -------
    keras.Model

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.keras``, or the data do not fit.
    """
    import keras

    epochs = _validation.check_int("epochs", epochs, minimum=1)
    seed = _validation.check_int("seed", seed, minimum=0)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    path = classifier_path(mnist, epochs=epochs, seed=seed, batch_size=batch_size) if path is None else pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"`path` must end in '.keras' (Keras's native format); received {str(path)!r}.")
    if path.exists() and not retrain:
        model = keras.saving.load_model(path, safe_mode=True)
        if verbose:
            print(f"Loaded the trained classifier ({epochs} epoch(s), seed {seed}) from the model cache")
        return model
    model = build_classifier(seed=seed)
    train_classifier(model, mnist, epochs=epochs, batch_size=batch_size, seed=seed)
    save_classifier(model, path)
    if verbose:
        print(f"Trained the classifier ({epochs} epoch(s), seed {seed}) and saved it to the model cache")
    return model
