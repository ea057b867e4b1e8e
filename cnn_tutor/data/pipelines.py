"""``tf.data`` input pipelines: shuffle, batch, cache, prefetch.

The source article trains with ``model.fit(mnist_train, epochs=5)`` but never
defines ``mnist_train``; these functions build the missing pipeline.  Used by
the Keras models chapter (and by every chapter that trains on MNIST).
"""

import numpy as np

from cnn_tutor import _validation

__all__ = ["make_dataset", "make_mnist_datasets"]


def make_dataset(images, labels=None, *, batch_size=64, shuffle=False, seed=0, cache=True, prefetch=True):
    """Wrap arrays in a batched ``tf.data.Dataset``.

    The order of the steps is the one the ``tf.data`` performance guide
    recommends: ``cache`` (keep the decoded tensors in memory), ``shuffle``
    (a new order every epoch, reproducible from ``seed``), ``batch``, and
    ``prefetch`` (prepare the next batch while the model trains on this one).

    Parameters
    ----------
    images : array_like
        ``(n, height, width, channels)`` float images in [0, 1].
    labels : array_like, optional
        ``(n,)`` integer labels, or any array with ``n`` rows (for example
        dense target maps); ``None`` gives a dataset of images only.
    batch_size : int
        Images per batch (the last batch may be smaller).
    shuffle : bool
        Shuffle the whole set again at every epoch (for training sets).
    seed : int
        Seed of the shuffle.
    cache : bool
        Cache the tensors after the first pass.
    prefetch : bool
        Prefetch batches (``tf.data.AUTOTUNE``).

    Returns
    -------
    tf.data.Dataset
        Yields ``images`` or ``(images, labels)`` batches.

    Raises
    ------
    ValueError
        If the images are not a 4-D batch in [0, 1], or ``labels`` has a
        different number of rows.

    Examples
    --------
    >>> ds = make_dataset(np.zeros((10, 4, 4, 1)), np.arange(10), batch_size=4)
    >>> [int(x.shape[0]) for x, _ in ds]
    [4, 4, 2]
    >>> make_dataset(np.zeros((10, 4, 4, 1)), np.arange(9))
    Traceback (most recent call last):
    ...
    ValueError: `labels` must have one row per image (10); received 9.
    """
    import tensorflow as tf

    images = _validation.check_images("images", images)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    seed = _validation.check_int("seed", seed, minimum=0)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 0 or len(labels) != len(images):
            received = "a scalar" if labels.ndim == 0 else len(labels)
            raise ValueError(f"`labels` must have one row per image ({len(images)}); received {received}.")
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        dataset = tf.data.Dataset.from_tensor_slices(images)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if prefetch:
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return dataset


def make_mnist_datasets(mnist, *, batch_size=64, seed=0, num_classes=10):
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
    seed : int
        Seed of the training shuffle.
    num_classes : int
        The labels must lie in ``[0, num_classes)``.

    Returns
    -------
    (tf.data.Dataset, tf.data.Dataset)
        ``(train, test)``, each yielding ``(images, labels)`` batches.

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
    >>> [int(y.shape[0]) for _, y in train], [int(y.shape[0]) for _, y in test]
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
