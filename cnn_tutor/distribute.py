"""Data-parallel training with ``tf.distribute``: one model, copied onto several devices.

``tf.distribute.MirroredStrategy`` keeps a copy (replica) of every variable
on each device.  Each training step splits the global batch between the
replicas, each replica computes the gradient of its share, the gradients are
summed across replicas (an all-reduce), and every replica applies the same
update, so the copies stay identical.  The result is, up to floating-point
rounding, the same training as on one device with the same global batch.

On a machine without GPUs, :func:`cnn_tutor.setup` can split the CPU into
several *logical* devices (``setup(cpu_devices=2)``), so the same code runs
for real with two replicas; with GPUs, :func:`make_strategy` uses all of
them.  The training helpers :func:`cnn_tutor.models.training.train_classifier`
and :func:`cnn_tutor.models.training.train_restoration` take the strategy
as ``strategy=``.

Used by the Future directions chapter.
"""

__all__ = [
    "check_strategy",
    "make_strategy",
    "max_weight_difference",
    "replica_devices",
    "single_device_strategy",
]


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
    import numpy as np

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
