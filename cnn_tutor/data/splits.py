"""A validation split of the training digits, the same number of each class, for every choice a chapter makes.

The test digits decide nothing (the book's evidence rules): a chapter that
chooses a model, a budget or a threshold makes the choice on validation digits
held out from the training digits, and scores the chosen model on the test
digits once.

Used by the Keras models chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation, runtime
from cnn_tutor.data.mnist import MNIST

__all__ = ["ValidationSplit", "split_validation"]


class ValidationSplit(typing.NamedTuple):
    """What :func:`split_validation` returns: the reduced training split and the validation digits."""

    #: The MNIST split without the validation digits (``x_test`` and ``y_test`` unchanged).
    train: MNIST
    #: The validation images, float32 ``(n, 28, 28, 1)``.
    x_val: np.ndarray
    #: Their labels.
    y_val: np.ndarray


def split_validation(mnist, num_validation, *, seed=None):
    """Hold out ``num_validation`` training digits, the same number of each class, to make every choice on.

    The test digits decide nothing: a chapter that chooses a model, a
    budget or a threshold makes the choice on these validation digits and
    scores the chosen one on the test digits once.  The validation digits
    are drawn from the training split, ``num_validation / classes`` of each
    class (so the split keeps the class balance), with a seeded generator;
    the training split keeps the rest, in its original order.

    Parameters
    ----------
    mnist : MNIST
        From :func:`load_mnist`.
    num_validation : int
        How many training digits to hold out; a multiple of the number of
        classes, and leaving at least one digit of each class for training.
    seed : int, optional
        Seed of the draw (``None``: the runtime's seed).

    Returns
    -------
    ValidationSplit
        ``(train, x_val, y_val)``.

    Raises
    ------
    TypeError
        If ``mnist`` is not an :class:`MNIST` split.
    ValueError
        If ``num_validation`` is not a positive multiple of the number of
        classes, or a class has too few training digits.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> toy = MNIST(rng.random((40, 28, 28, 1), dtype=np.float32), np.arange(40) % 4,
    ...             np.zeros((1, 28, 28, 1), np.float32), np.zeros(1, np.int64), "toy", "toy")
    >>> split = split_validation(toy, 8, seed=0)
    >>> len(split.train.x_train), np.bincount(split.y_val).tolist()
    (32, [2, 2, 2, 2])
    >>> split_validation(toy, 6)
    Traceback (most recent call last):
    ...
    ValueError: `num_validation` must be a multiple of the number of classes (4), to keep them balanced; received 6.
    """
    if not isinstance(mnist, MNIST):
        raise TypeError(f"`mnist` must be an MNIST split from load_mnist(); received {type(mnist).__name__}.")
    num_validation = _validation.check_int("num_validation", num_validation, minimum=1)
    labels = np.asarray(mnist.y_train)
    classes = np.unique(labels)
    if num_validation % len(classes):
        raise ValueError(
            f"`num_validation` must be a multiple of the number of classes ({len(classes)}), to keep them "
            f"balanced; received {num_validation}."
        )
    per_class = num_validation // len(classes)
    rng = np.random.default_rng(runtime.resolve_seed(seed))
    held_out = []
    for label in classes:
        members = np.flatnonzero(labels == label)
        if len(members) <= per_class:
            raise ValueError(
                f"`num_validation` ({num_validation}) asks for {per_class} digits of class {label}, which has "
                f"only {len(members)} training digits; at least one must stay for training."
            )
        held_out.append(rng.choice(members, per_class, replace=False))
    held_out = np.sort(np.concatenate(held_out))
    keep = np.setdiff1d(np.arange(len(labels)), held_out)
    train = mnist._replace(
        x_train=mnist.x_train[keep],
        y_train=labels[keep],
        description=f"{mnist.description}; {num_validation:,} training digits held out for validation",
    )
    return ValidationSplit(train, mnist.x_train[held_out], labels[held_out])
