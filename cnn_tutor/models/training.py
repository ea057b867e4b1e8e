"""How every model of the package is trained: one ``fit`` path.

:func:`fit` is the one place where the package calls ``model.fit``.  It takes
arrays (or a ready pipeline), builds the input pipeline with
:func:`cnn_tutor.data.make_dataset` (``tf.data`` on TensorFlow, a
``keras.utils.PyDataset`` on other backends), adds validation data or a
validation split taken from the training data, optional early stopping on it,
an epoch timer and the caller's callbacks, and returns a :class:`TrainingRun`.
``seed=None`` means the runtime's seed (the seed of ``cnn_tutor.setup()``).

The family helpers prepare their data and call it:

- :func:`train_classifier`: an MNIST split or a pipeline of labelled digits;
- :func:`train_restoration`: degraded inputs and clean targets;
- :func:`train_detector`: canvases, their boxes encoded as dense targets, and
  the detector's two losses;
- :func:`train_dcgan`: real images for a DCGAN, with a fixed-noise sample grid
  per epoch and checkpoints that resume (:mod:`cnn_tutor.models.checkpoints`).

The callbacks it uses and offers (:class:`~cnn_tutor.models.callbacks.EpochTimer`,
:class:`~cnn_tutor.models.callbacks.SampleGrid`, :class:`~cnn_tutor.models.callbacks.KeepBest`)
live in :mod:`cnn_tutor.models.callbacks`.

Used by the Keras models, Generation, Reconstruction, FAQ and Future
directions chapters.
"""

import types
import typing

import keras
import numpy as np

from cnn_tutor import _validation, runtime
from cnn_tutor.data import pipelines
from cnn_tutor.models import checkpoints, detector, detector_targets
from cnn_tutor.models.callbacks import EpochTimer, KeepBest, SampleGrid  # noqa: F401 (KeepBest: training.KeepBest)

__all__ = [
    "TrainingRun",
    "fit",
    "train_classifier",
    "train_dcgan",
    "train_detector",
    "train_restoration",
]


class TrainingRun(typing.NamedTuple):
    """What the training functions return."""

    #: The trained model (the object that was passed in).
    model: typing.Any
    #: ``History.history`` of the epochs run by this call: losses and metrics per epoch (running means).
    history: dict
    #: Wall-clock seconds of each epoch run by this call.
    epoch_seconds: tuple
    #: The epoch training started from (0, or where a checkpoint stopped).
    initial_epoch: int = 0
    #: ``epoch -> images`` in [0, 1]: fixed-noise samples after each epoch (DCGAN; empty otherwise).
    grids: typing.Mapping = types.MappingProxyType({})

    @property
    def final_epoch(self):
        """The epoch the model has reached (``initial_epoch`` plus the epochs run by this call)."""
        return self.initial_epoch + len(self.epoch_seconds)


def _split(x, y, fraction, seed):
    """A seeded random split of arrays: ``(x_train, y_train), (x_val, y_val)``."""
    fraction = _validation.check_float("validation_split", fraction, minimum=0.0, maximum=1.0)
    count = len(pipelines._leaves(pipelines._tuples(x), "x")[0][1])
    held_out = int(round(fraction * count))
    if not 1 <= held_out < count:
        raise ValueError(
            f"`validation_split` must leave at least one example on each side of the split; received "
            f"{fraction} of {count} examples ({held_out} held out)."
        )
    order = np.random.default_rng(seed).permutation(count)
    train_rows, val_rows = np.sort(order[held_out:]), np.sort(order[:held_out])
    take = pipelines._take
    x, y = pipelines._tuples(x), None if y is None else pipelines._tuples(y)
    x = pipelines._as_arrays(x, "inputs")
    y = None if y is None else pipelines._as_arrays(y, "targets")
    return (take(x, train_rows), None if y is None else take(y, train_rows)), (
        take(x, val_rows),
        None if y is None else take(y, val_rows),
    )


def fit(
    model,
    x,
    y=None,
    *,
    epochs,
    batch_size=64,
    shuffle=True,
    seed=None,
    validation=None,
    validation_split=None,
    early_stopping=None,
    callbacks=(),
    initial_epoch=0,
    drop_remainder=False,
    strategy=None,
):
    """Train a compiled model with ``fit`` on a pipeline of :func:`cnn_tutor.data.make_dataset`.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    x : array_like, list of array_like, dict or tf.data.Dataset
        Training inputs, one row per example (several for a multi-input
        model); or a ready ``tf.data.Dataset`` / ``keras.utils.PyDataset`` of
        batches (then ``y`` must be ``None`` and ``batch_size`` is the
        pipeline's).
    y : array_like, tuple of array_like or dict, optional
        Training targets.
    epochs : int
        The epoch to train up to (``fit``'s ``epochs``, counted from the very
        start when ``initial_epoch`` > 0).
    batch_size : int
        Examples per step.
    shuffle : bool
        Reshuffle the training arrays every epoch.
    seed : int, optional
        Seed of the shuffle and of the validation split (``None``: the
        runtime's seed).
    validation : tuple or tf.data.Dataset, optional
        ``(x_val, y_val)`` arrays, or a pipeline, scored after each epoch
        (``val_*`` entries of the history).
    validation_split : float, optional
        Hold out this share of the training arrays (a seeded random choice)
        as validation data instead; the test set decides nothing.
    early_stopping : int, optional
        Stop when the validation loss has not improved for this many epochs,
        and keep the weights of the best epoch (needs validation data).
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks.
    initial_epoch : int
        The epoch to start from (after restoring a checkpoint).
    drop_remainder : bool
        Drop the last, incomplete batch of every epoch.
    strategy : tf.distribute.Strategy, optional
        Train data-parallel with this strategy (a TensorFlow lesson; see
        :mod:`cnn_tutor.distribute`); the model must have been built and
        compiled inside ``with strategy.scope():`` and ``batch_size`` is the
        global batch, which ``fit`` splits between the replicas.

    Returns
    -------
    TrainingRun
        ``(model, history, epoch_seconds, initial_epoch)``.

    Raises
    ------
    TypeError, ValueError
        If an argument is out of range, data and targets differ in length,
        ``early_stopping`` is given without validation data, or the strategy
        does not fit the model.

    Examples
    --------
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    >>> x = np.random.default_rng(0).random((64, 2)).astype("float32")
    >>> run = fit(model, x, x.sum(axis=1, keepdims=True), epochs=3, batch_size=16)
    >>> len(run.history["loss"]), len(run.epoch_seconds), run.history["loss"][-1] < run.history["loss"][0]
    (3, 3, True)
    """
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    initial_epoch = _validation.check_int("initial_epoch", initial_epoch, minimum=0)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    seed = runtime.resolve_seed(seed)
    if strategy is not None:
        from cnn_tutor import distribute

        distribute.check_strategy(model, strategy)
    if validation is not None and validation_split is not None:
        raise ValueError("Give at most one of `validation` and `validation_split`; received both.")
    if pipelines.is_dataset(x):
        if y is not None:
            raise ValueError("`y` must be None when `x` is a pipeline (the pipeline yields the targets).")
        if validation_split is not None:
            raise ValueError("`validation_split` needs arrays; split the data before making the pipeline.")
        data = x
    else:
        if validation_split is not None:
            (x, y), validation = _split(x, y, validation_split, seed)
        data = pipelines.make_dataset(
            x, y, batch_size=batch_size, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder
        )
    if validation is not None and not pipelines.is_dataset(validation):
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise ValueError(f"`validation` must be a pair (x_val, y_val) or a pipeline; received {type(validation).__name__}.")
        validation = pipelines.make_dataset(validation[0], validation[1], batch_size=batch_size, shuffle=False)
    extra = []
    if early_stopping is not None:
        patience = _validation.check_int("early_stopping", early_stopping, minimum=1)
        if validation is None:
            raise ValueError(
                f"`early_stopping` ({patience}) needs validation data; give `validation` or `validation_split`."
            )
        extra.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True))
    timer = EpochTimer()
    # shuffle=False: the pipeline already reshuffles every epoch (Keras would warn otherwise).
    history = model.fit(
        data,
        epochs=epochs,
        initial_epoch=initial_epoch,
        validation_data=validation,
        verbose=0,
        shuffle=False,
        callbacks=[timer, *extra, *callbacks],
    )
    logs = {name: [float(value) for value in values] for name, values in history.history.items()}
    return TrainingRun(model=model, history=logs, epoch_seconds=tuple(timer.seconds), initial_epoch=initial_epoch)


def train_classifier(model, data, *, epochs, batch_size=64, seed=None, **options):
    """Train a compiled classifier on an MNIST split (or a pipeline of labelled batches), timing each epoch.

    Parameters
    ----------
    model : keras.Model
        A compiled classifier (for example from
        :func:`cnn_tutor.models.classifier.build_classifier`).
    data : MNIST or tf.data.Dataset
        An MNIST split from :func:`cnn_tutor.data.load_mnist` (its training
        part goes through :func:`cnn_tutor.data.make_mnist_datasets` with
        ``batch_size`` and ``seed``), or a ready pipeline of
        ``(images, labels)`` batches.
    epochs : int
        Passes over the training set.
    batch_size : int
        Images per batch (for an MNIST split).
    seed : int, optional
        Seed of the shuffle (``None``: the runtime's seed).
    **options
        Passed to :func:`fit`: ``validation``, ``early_stopping``,
        ``callbacks``, ``strategy``...

    Returns
    -------
    TrainingRun

    Raises
    ------
    TypeError
        If ``data`` is neither an MNIST split nor a pipeline.
    ValueError
        If the images do not fit the model's input or labels are out of range.
    """
    if hasattr(data, "x_train"):
        _validation.check_model_input(model, data.x_train, "data.x_train")
        num_classes = int(model.output_shape[-1])
        data, _ = pipelines.make_mnist_datasets(data, batch_size=batch_size, seed=seed, num_classes=num_classes)
    elif not pipelines.is_dataset(data):
        raise TypeError(
            "`data` must be an MNIST split from cnn_tutor.data.load_mnist() or a pipeline (tf.data.Dataset or "
            f"keras.utils.PyDataset) of (images, labels) batches; received {type(data).__name__}."
        )
    return fit(model, data, epochs=epochs, batch_size=batch_size, seed=seed, **options)


def train_restoration(model, inputs, targets, *, epochs, batch_size=32, seed=None, **options):
    """Train a compiled restoration model on degraded ``inputs`` and clean ``targets``, timing each epoch.

    Parameters
    ----------
    model : keras.Model
        A compiled model from :mod:`cnn_tutor.models.restoration`.
    inputs : numpy.ndarray or list of numpy.ndarray
        Degraded images (``[images, masks]`` for the inpainting net).
    targets : numpy.ndarray
        Clean images, shaped like the model's output.
    epochs : int
        Passes over the data (from ``rt.epochs(...)``).
    batch_size : int
        Images per step.
    seed : int, optional
        Seed of the shuffle (``None``: the runtime's seed).
    **options
        Passed to :func:`fit`: ``validation`` (a pair ``(inputs, targets)``),
        ``validation_split``, ``early_stopping``, ``callbacks``, ``strategy``...

    Returns
    -------
    TrainingRun

    Raises
    ------
    ValueError
        If inputs and targets hold different numbers of images.
    """
    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    if len(first) != len(targets):
        raise ValueError(
            f"`inputs` and `targets` must hold the same number of images; received {len(first)} and {len(targets)}."
        )
    return fit(model, inputs, targets, epochs=epochs, batch_size=batch_size, seed=seed, **options)


def train_detector(
    model,
    dataset,
    *,
    epochs,
    batch_size=32,
    learning_rate=1e-3,
    box_weight=5.0,
    seed=None,
    positive_radius=2.0,
    ignore_radius=5.0,
    **options,
):
    """Compile and fine-tune the detector on a :class:`~cnn_tutor.data.DetectionSet`.

    The boxes become dense targets
    (:func:`cnn_tutor.models.detector_targets.encode_targets`); the loss is
    the balanced cross-entropy of the class map
    (:func:`~cnn_tutor.models.detector_targets.class_map_loss`) plus
    ``box_weight`` times the Huber loss of the boxes of the positive cells
    (:func:`~cnn_tutor.models.detector_targets.box_loss`).

    Parameters
    ----------
    model : keras.Model
        The detector, from :func:`cnn_tutor.models.detector.build_detector`.
    dataset : DetectionSet
        Canvases with boxes and labels.
    epochs, batch_size, seed
        As in :func:`fit`.
    learning_rate : float
        Adam's learning rate.
    box_weight : float
        Weight of the box loss.
    positive_radius, ignore_radius : float
        See :func:`~cnn_tutor.models.detector_targets.encode_targets`.
    **options
        Passed to :func:`fit`.

    Returns
    -------
    TrainingRun
        Its history has ``loss``, ``classes_loss`` and ``boxes_loss``.
    """
    learning_rate = _validation.check_float("learning_rate", learning_rate, minimum=0.0)
    box_weight = _validation.check_float("box_weight", box_weight, minimum=0.0)
    images = _validation.check_images("dataset.images", dataset.images, channels=int(model.input_shape[-1]))
    num_classes = int(model.get_layer("classes").filters) - 1
    classes, boxes = detector_targets.encode_targets(
        dataset.boxes,
        dataset.labels,
        image_size=images.shape[1],
        geometry=detector.geometry_of(model),
        num_classes=num_classes,
        positive_radius=positive_radius,
        ignore_radius=ignore_radius,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss={"classes": detector_targets.class_map_loss, "boxes": detector_targets.box_loss},
        loss_weights={"classes": 1.0, "boxes": box_weight},
    )
    return fit(model, images, {"classes": classes, "boxes": boxes}, epochs=epochs, batch_size=batch_size,
               seed=seed, **options)


def train_dcgan(gan, images, *, epochs, batch_size=64, seed=None, checkpoint_dir=None, grid_noise=None, callbacks=()):
    """Train a DCGAN on images in [0, 1] up to ``epochs`` epochs, resuming from a checkpoint.

    Parameters
    ----------
    gan : cnn_tutor.models.gan.DCGAN
        From :func:`cnn_tutor.models.gan.build_dcgan`.
    images : array_like
        Training images ``(n, height, width, channels)`` in [0, 1].
    epochs : int
        The epoch to train up to (counted from the very start, as ``fit``'s
        ``epochs`` with ``initial_epoch``).
    batch_size : int
        Images per step (the last, incomplete batch is dropped).
    seed : int, optional
        Seed of the shuffle (``None``: the runtime's seed).
    checkpoint_dir : str or pathlib.Path, optional
        Where to keep checkpoints (outside the repository).  If it holds a
        checkpoint, training resumes from it: weights, optimizer state, noise
        generator and epoch (:mod:`cnn_tutor.models.checkpoints`); the shuffle of the
        data starts again from the first epoch's order.
    grid_noise : array_like, optional
        ``(k, latent_dim)`` noise for the per-epoch sample grid.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks.

    Returns
    -------
    TrainingRun
        With ``initial_epoch`` and ``grids`` (the fixed-noise samples of the
        epochs run by this call).

    Raises
    ------
    ValueError
        If the images are not a batch in [0, 1] of the generator's shape, or
        there are fewer images than ``batch_size``.
    """
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    images = _validation.check_images("images", images)
    expected = tuple(gan.generator.output_shape[1:])
    if images.shape[1:] != expected:
        raise ValueError(f"`images` must have shape (n, {', '.join(map(str, expected))}); received {images.shape}.")
    if len(images) < batch_size:
        raise ValueError(f"`images` must hold at least `batch_size` ({batch_size}) images; received {len(images)}.")
    initial_epoch, extra = 0, []
    if checkpoint_dir is not None:
        initial_epoch = checkpoints.restore_checkpoint(gan, checkpoint_dir)
        extra.append(checkpoints.ResumableCheckpoint(checkpoint_dir))
    grid = None
    if grid_noise is not None:
        grid = SampleGrid(grid_noise)
        extra.append(grid)
    if initial_epoch >= epochs:
        return TrainingRun(model=gan, history={}, epoch_seconds=(), initial_epoch=initial_epoch)
    run = fit(gan, images, epochs=epochs, batch_size=batch_size, seed=seed, initial_epoch=initial_epoch,
              drop_remainder=True, callbacks=[*extra, *callbacks])
    return run._replace(grids={} if grid is None else dict(grid.grids))
