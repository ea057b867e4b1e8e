"""Strategies on one machine and the batch arithmetic of data parallelism.

Private: the public names are re-exported by :mod:`cnn_tutor.distribute`,
which says how data-parallel training works.  The multi-worker launch is in
``_workers``.
"""

import numpy as np

from cnn_tutor import _validation


def replica_devices():
    """The devices a data-parallel strategy uses here: every GPU, or else every logical CPU.

    Returns
    -------
    tuple of str
        Device names such as ``"/device:CPU:0"``.  Without GPUs and without
        ``cnn_tutor.setup(cpu_devices=...)`` this is the single CPU device.

    Examples
    --------
    >>> len(replica_devices()) >= 1
    True
    """
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    devices = gpus or tf.config.list_logical_devices("CPU")
    return tuple(device.name for device in devices)


def _check_devices(devices):
    if devices is None:
        return replica_devices()
    if isinstance(devices, str) or not isinstance(devices, (tuple, list)) or not devices:
        raise ValueError(
            "`devices` must be a non-empty sequence of device names, for example ('/cpu:0', '/cpu:1'); "
            f"received {devices!r}."
        )
    for index, device in enumerate(devices):
        if not isinstance(device, str):
            raise TypeError(f"`devices[{index}]` must be a device name (str); received {device!r}.")
    return tuple(devices)


def make_strategy(devices=None):
    """A ``tf.distribute.MirroredStrategy`` over ``devices`` (default: :func:`replica_devices`).

    Build and compile the model inside ``with strategy.scope():`` so its
    variables are mirrored, then train it as usual; ``fit`` splits each
    global batch between the replicas.

    Parameters
    ----------
    devices : sequence of str, optional
        Device names; by default every GPU, or else every logical CPU.

    Returns
    -------
    tf.distribute.MirroredStrategy

    Raises
    ------
    ValueError
        If ``devices`` is not a non-empty sequence of names.

    Examples
    --------
    >>> strategy = make_strategy(["/cpu:0"])
    >>> strategy.num_replicas_in_sync
    1
    >>> make_strategy("/cpu:0")
    Traceback (most recent call last):
    ...
    ValueError: `devices` must be a non-empty sequence of device names, for example ('/cpu:0', '/cpu:1'); received '/cpu:0'.
    """
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(list(_check_devices(devices)))


def single_device_strategy(device=None):
    """A ``tf.distribute.OneDeviceStrategy``: the baseline to compare a distributed run with.

    Under any strategy, Keras's ``fit`` draws one batch from the data before
    training, to build the model; with a pipeline that reshuffles every
    epoch, that draw uses up one shuffle, so the epochs see the orders that a
    run without a strategy sees one epoch later.  Training the baseline under
    a one-device strategy keeps everything else equal: the same code path,
    the same batches in the same order, one replica instead of several.

    Parameters
    ----------
    device : str, optional
        The device; by default the first of :func:`replica_devices`.

    Returns
    -------
    tf.distribute.OneDeviceStrategy

    Examples
    --------
    >>> single_device_strategy("/cpu:0").num_replicas_in_sync
    1
    """
    import tensorflow as tf

    if device is None:
        device = replica_devices()[0]
    elif not isinstance(device, str):
        raise TypeError(f"`device` must be a device name such as '/cpu:0'; received {device!r}.")
    return tf.distribute.OneDeviceStrategy(device)


def check_strategy(model, strategy):
    """Check that ``model`` was built under ``strategy.scope()``; return ``strategy``.

    ``None`` passes (no strategy).  The check asks the strategy whether it
    created each of the model's variables.

    Parameters
    ----------
    model : keras.Model
        The model to train.
    strategy : tf.distribute.Strategy or None
        The strategy it will be trained with.

    Returns
    -------
    tf.distribute.Strategy or None

    Raises
    ------
    TypeError
        If ``strategy`` is not a ``tf.distribute.Strategy``.
    ValueError
        If the model's variables were created outside ``strategy.scope()``.

    Examples
    --------
    >>> import keras
    >>> strategy = make_strategy(["/cpu:0"])
    >>> with strategy.scope():
    ...     inside = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> check_strategy(inside, strategy) is strategy
    True
    >>> outside = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> check_strategy(outside, strategy)
    Traceback (most recent call last):
    ...
    ValueError: `model` must be built (and compiled) under `strategy.scope()` to be trained with `strategy`; received a model whose variables were created outside it, for example 'kernel'. Build it inside `with strategy.scope():`.
    """
    import tensorflow as tf

    if strategy is None:
        return None
    if not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(
            "`strategy` must be a tf.distribute.Strategy (for example from cnn_tutor.distribute.make_strategy()) "
            f"or None; received {type(strategy).__name__}."
        )
    for variable in model.weights:
        if not strategy.extended.variable_created_in_scope(getattr(variable, "value", variable)):
            raise ValueError(
                "`model` must be built (and compiled) under `strategy.scope()` to be trained with `strategy`; "
                f"received a model whose variables were created outside it, for example {variable.name!r}. "
                "Build it inside `with strategy.scope():`."
            )
    return strategy


def max_weight_difference(model_a, model_b):
    """The largest absolute difference between corresponding weights of two models of the same shape.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the two models do not have the same weight shapes.

    Examples
    --------
    >>> import keras
    >>> a = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> max_weight_difference(a, a)
    0.0
    """
    weights_a, weights_b = model_a.get_weights(), model_b.get_weights()
    shapes_a, shapes_b = [w.shape for w in weights_a], [w.shape for w in weights_b]
    if shapes_a != shapes_b:
        raise ValueError(
            f"`model_a` and `model_b` must have the same weight shapes; received {shapes_a} and {shapes_b}."
        )
    differences = (
        np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max(initial=0.0)
        for a, b in zip(weights_a, weights_b)
    )
    return float(max(differences, default=0.0))


# --- scaling the batch and the learning rate with the replicas --------------


def _num_replicas(strategy):
    if isinstance(strategy, bool):
        raise TypeError(f"`strategy` must be a tf.distribute.Strategy or a number of replicas; received {strategy!r}.")
    if isinstance(strategy, (int, np.integer)):
        return _validation.check_int("strategy", strategy, minimum=1)
    replicas = getattr(strategy, "num_replicas_in_sync", None)
    if replicas is None:
        raise TypeError(
            "`strategy` must be a tf.distribute.Strategy (anything with `num_replicas_in_sync`) or a number "
            f"of replicas (int); received {type(strategy).__name__}."
        )
    return int(replicas)


def global_batch_size(per_replica_batch, strategy):
    """The global batch that gives each replica ``per_replica_batch`` examples per step.

    A data-parallel step splits the *global* batch between the replicas.
    Keeping the global batch fixed while adding replicas shrinks each
    replica's share (64 images on 8 GPUs is 8 images each: the devices idle
    and batch statistics get noisy); the usual practice is to keep the
    per-replica batch and multiply: ``per_replica_batch * num_replicas_in_sync``.
    Then each epoch has fewer, larger steps, so the learning rate should grow
    too (:func:`scaled_learning_rate`).

    Parameters
    ----------
    per_replica_batch : int
        Examples per replica and step (``>= 1``).
    strategy : tf.distribute.Strategy or int
        The strategy (its ``num_replicas_in_sync`` counts), or the number of replicas.

    Returns
    -------
    int

    Raises
    ------
    TypeError, ValueError
        If ``per_replica_batch`` is not an integer >= 1, or ``strategy`` is neither.

    Examples
    --------
    >>> global_batch_size(64, 4)
    256
    >>> global_batch_size(64, make_strategy(["/cpu:0"]))
    64
    """
    per_replica_batch = _validation.check_int("per_replica_batch", per_replica_batch, minimum=1)
    return per_replica_batch * _num_replicas(strategy)


def scaled_learning_rate(learning_rate, strategy, *, reference_replicas=1):
    """The learning rate for ``strategy``'s replicas by the linear scaling rule.

    With a global batch of :func:`global_batch_size`, ``R`` replicas take one
    step where one device took ``R``, each step averaging the gradient over
    ``R`` times as many examples.  The linear scaling rule of Goyal et al.
    (2017), which the Future directions chapter states and tests in an
    exercise, multiplies the learning rate by the same factor, so that one
    large step moves the weights about as far as ``R`` small ones.  It was
    derived for SGD with momentum; for large factors it needs a warm-up (the
    rate raised gradually over the first epochs), and for Adam it is a
    starting point to check on a validation split, not a law.

    Parameters
    ----------
    learning_rate : float
        The rate tuned for ``reference_replicas`` replicas at the same
        per-replica batch (``> 0``).
    strategy : tf.distribute.Strategy or int
        The strategy to train with, or its number of replicas.
    reference_replicas : int
        How many replicas ``learning_rate`` was tuned for (usually 1).

    Returns
    -------
    float
        ``learning_rate * num_replicas / reference_replicas``.

    Raises
    ------
    TypeError, ValueError
        If ``learning_rate`` is not a positive number, ``strategy`` is neither
        a strategy nor an int, or ``reference_replicas`` < 1.

    Examples
    --------
    >>> scaled_learning_rate(0.01, 4)
    0.04
    >>> scaled_learning_rate(0.04, 2, reference_replicas=4)
    0.02
    >>> scaled_learning_rate(0.0, 2)
    Traceback (most recent call last):
    ...
    ValueError: `learning_rate` must be > 0; received 0.0.
    """
    learning_rate = _validation.check_float("learning_rate", learning_rate)
    if learning_rate <= 0:
        raise ValueError(f"`learning_rate` must be > 0; received {learning_rate!r}.")
    reference_replicas = _validation.check_int("reference_replicas", reference_replicas, minimum=1)
    return learning_rate * _num_replicas(strategy) / reference_replicas
