"""Input pipelines for ``fit``: shuffle, batch, cache, prefetch, on any Keras backend.

The source article trains with ``model.fit(mnist_train, epochs=5)`` but never
defines ``mnist_train``; these functions build the missing pipeline.

:func:`make_dataset` returns a ``tf.data.Dataset`` when the Keras backend is
TensorFlow (and TensorFlow is installed): the lesson of the Keras models
chapter is ``tf.data``.  Under another backend (JAX, PyTorch), or without
TensorFlow, it returns an :class:`ArrayDataset`, a ``keras.utils.PyDataset``
that batches NumPy arrays and reshuffles them every epoch from the same seed.
Every training function of the package takes its data from here
(:mod:`cnn_tutor.models.training`).

Used by the Keras models chapter (and by every chapter that trains).
"""

import math

import keras
import numpy as np

from cnn_tutor import _backend, _validation, runtime

__all__ = ["ArrayDataset", "is_dataset", "make_dataset", "make_mnist_datasets"]


def _tuples(value):
    """Lists become tuples (``tf.data`` would stack a list of arrays into one tensor)."""
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(item) for item in value)
    return value


def _leaves(value, name):
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, f"{name}[{key!r}]")]
    if isinstance(value, tuple):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, f"{name}[{index}]")]
    return [(name, value)]


def _as_arrays(value, name):
    """Each leaf as a NumPy array; 4-D leaves are image batches in [0, 1] (float32)."""
    if isinstance(value, dict):
        return {key: _as_arrays(item, f"{name}[{key!r}]") for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_as_arrays(item, f"{name}[{index}]") for index, item in enumerate(value))
    array = np.asarray(value)
    if array.ndim == 4 and name.startswith("inputs"):
        return _validation.check_images(name, array)
    if array.ndim == 0:
        raise ValueError(f"`{name}` must have one row per example; received a scalar.")
    return array


def _take(value, index):
    if isinstance(value, dict):
        return {key: _take(item, index) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_take(item, index) for item in value)
    return value[index]


def is_dataset(value):
    """Whether ``value`` is a ready pipeline (``tf.data.Dataset`` or ``keras.utils.PyDataset``), not arrays."""
    if isinstance(value, keras.utils.PyDataset):
        return True
    return type(value).__module__.startswith("tensorflow") and hasattr(value, "element_spec")


class ArrayDataset(keras.utils.PyDataset):
    """Batches of NumPy arrays for ``fit``, reshuffled every epoch: the pipeline of non-TensorFlow backends.

    Parameters
    ----------
    inputs : numpy.ndarray, tuple or dict of numpy.ndarray
        The model's inputs, one row per example.
    targets : numpy.ndarray, tuple or dict of numpy.ndarray, optional
        The targets, one row per example; ``None`` yields inputs only.
    batch_size : int
        Examples per batch.
    shuffle : bool
        A new order at the start of every epoch, drawn from a NumPy generator
        seeded with ``seed`` (so the same seed gives the same orders).
    seed : int
        The seed of the order.
    drop_remainder : bool
        Drop the last, incomplete batch.

    Examples
    --------
    >>> data = ArrayDataset(np.arange(10.0)[:, None], np.arange(10), batch_size=4, shuffle=False, seed=0)
    >>> len(data), [len(data[i][1]) for i in range(len(data))]
    (3, [4, 4, 2])
    """

    def __init__(self, inputs, targets=None, *, batch_size, shuffle, seed, drop_remainder=False):
        super().__init__()
        self.inputs, self.targets = inputs, targets
        self.num_examples = len(_leaves(inputs, "inputs")[0][1])
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_remainder = drop_remainder
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(self.num_examples)

    def __len__(self):
        if self.drop_remainder:
            return self.num_examples // self.batch_size
        return math.ceil(self.num_examples / self.batch_size)

    def __getitem__(self, index):
        """Batch ``index`` of the epoch: ``(inputs,)`` or ``(inputs, targets)``."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of a dataset of {len(self)} batches")
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        x = _take(self.inputs, rows)
        return (x,) if self.targets is None else (x, _take(self.targets, rows))

    def on_epoch_begin(self):
        """Draw the epoch's order (with ``shuffle``)."""
        if self.shuffle:
            self._order = self._rng.permutation(self.num_examples)


def make_dataset(
    inputs, targets=None, *, batch_size=64, shuffle=False, seed=None, cache=True, prefetch=True, drop_remainder=False
):
    """Wrap arrays in a batched pipeline: ``tf.data`` on TensorFlow, an :class:`ArrayDataset` otherwise.

    The order of the ``tf.data`` steps is the one its performance guide
    recommends: ``cache`` (keep the tensors in memory), ``shuffle`` (a new
    order every epoch, reproducible from ``seed``), ``batch``, and
    ``prefetch`` (prepare the next batch while the model trains on this one).

    Parameters
    ----------
    inputs : array_like, list of array_like or dict
        The model's inputs, one row per example; image batches (4-D) must be
        float images in [0, 1].  A list means several inputs (the inpainting
        network's ``[images, masks]``).
    targets : array_like, tuple of array_like or dict, optional
        ``(n,)`` integer labels, or any arrays with ``n`` rows (clean images,
        dense target maps); ``None`` gives a pipeline of inputs only.
    batch_size : int
        Examples per batch (the last batch may be smaller).
    shuffle : bool
        Shuffle the whole set again at every epoch (for training sets).
    seed : int, optional
        Seed of the shuffle; ``None`` means the runtime's seed
        (:func:`cnn_tutor.runtime.current_seed`).
    cache : bool
        Cache the tensors after the first pass (``tf.data`` only).
    prefetch : bool
        Prefetch batches (``tf.data.AUTOTUNE``; ``tf.data`` only).
    drop_remainder : bool
        Drop the last, incomplete batch.

    Returns
    -------
    tf.data.Dataset or ArrayDataset
        Yields ``inputs`` or ``(inputs, targets)`` batches.

    Raises
    ------
    ValueError
        If an image batch is not 4-D in [0, 1], or the arrays differ in their
        number of rows.

    Examples
    --------
    >>> ds = make_dataset(np.zeros((10, 4, 4, 1)), np.arange(10), batch_size=4)
    >>> [int(np.shape(labels)[0]) for _, labels in ds]
    [4, 4, 2]
    >>> make_dataset(np.zeros((10, 4, 4, 1)), np.arange(9))
    Traceback (most recent call last):
    ...
    ValueError: `targets` must have one row per example (10); received 9.
    """
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    seed = runtime.resolve_seed(seed)
    inputs = _as_arrays(_tuples(inputs), "inputs")
    leaves = _leaves(inputs, "inputs")
    count = len(leaves[0][1])
    if targets is not None:
        targets = _as_arrays(_tuples(targets), "targets")
        leaves += _leaves(targets, "targets")
    for name, leaf in leaves:
        if len(leaf) != count:
            raise ValueError(f"`{name}` must have one row per example ({count}); received {len(leaf)}.")
    if not _backend.use_tensorflow():
        return ArrayDataset(inputs, targets, batch_size=batch_size, shuffle=shuffle, seed=seed,
                            drop_remainder=drop_remainder)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(inputs if targets is None else (inputs, targets))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if prefetch:
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return dataset


def make_mnist_datasets(mnist, *, batch_size=64, seed=None, num_classes=10):
    """Training and test pipelines for an :class:`~cnn_tutor.data.MNIST` split.

    This is what the article's ``mnist_train`` should have been: the training
    digits shuffled every epoch and batched; the test digits batched in a
    fixed order.

    Parameters
    ----------
    mnist : MNIST
        The named tuple returned by :func:`cnn_tutor.data.load_mnist`.
    batch_size : int
        Images per batch.
    seed : int, optional
        Seed of the training shuffle (``None``: the runtime's seed).
    num_classes : int
        The labels must lie in ``[0, num_classes)``.

    Returns
    -------
    (train, test)
        Two pipelines of :func:`make_dataset`, each yielding
        ``(images, labels)`` batches.

    Raises
    ------
    TypeError
        If ``mnist`` is not an MNIST split.
    ValueError
        If labels are out of range or do not match the images.

    Examples
    --------
    >>> from cnn_tutor.data import MNIST
    >>> tiny = MNIST(np.zeros((6, 28, 28, 1)), np.arange(6), np.zeros((2, 28, 28, 1)), np.arange(2), "toy", "toy")
    >>> train, test = make_mnist_datasets(tiny, batch_size=4)
    >>> [int(np.shape(y)[0]) for _, y in train], [int(np.shape(y)[0]) for _, y in test]
    ([4, 2], [2])
    """
    for field in ("x_train", "y_train", "x_test", "y_test"):
        if not hasattr(mnist, field):
            raise TypeError(
                "`mnist` must be the MNIST named tuple from cnn_tutor.data.load_mnist(); "
                f"received {type(mnist).__name__} without a `{field}` field."
            )
    num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
    y_train = _validation.check_labels("mnist.y_train", mnist.y_train, num_classes=num_classes, length=len(mnist.x_train))
    y_test = _validation.check_labels("mnist.y_test", mnist.y_test, num_classes=num_classes, length=len(mnist.x_test))
    train = make_dataset(mnist.x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    test = make_dataset(mnist.x_test, y_test, batch_size=batch_size, shuffle=False)
    return train, test
