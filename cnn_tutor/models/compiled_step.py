"""One training step written out as a ``tf.function``, to time it with and without XLA.

``model.fit`` hides the step it runs for each batch.  :func:`make_train_step`
writes it out (forward pass, loss, gradients, optimizer update), optionally
compiled by XLA (``jit_compile=True``) and with the loss scaling that mixed
float16 needs, so the Future directions chapter can measure what XLA and
mixed precision change.  This is a TensorFlow lesson: under another Keras
backend it raises a clear error.  Every other training of the package goes
through :func:`cnn_tutor.models.training.fit`.

Used by the Future directions chapter.
"""

import keras

from cnn_tutor import _backend

__all__ = ["make_train_step"]


def make_train_step(model, loss, optimizer="adam", *, jit_compile=False):
    """One optimisation step of ``model`` as a ``tf.function``: ``step(images, targets) -> loss``.

    This is what ``model.fit`` runs for each batch, written out so its speed
    can be measured with and without XLA: a TensorFlow lesson (it raises a
    clear error under another backend).  With ``jit_compile=True`` XLA
    compiles the whole step (forward pass, gradients, optimizer update) into
    fused kernels.  Keras's own ``compile(jit_compile=True)`` silently falls
    back to no XLA (with a warning) while TensorFlow's op determinism is on,
    as it is after :func:`cnn_tutor.setup` (unless ``deterministic=False``);
    this step does not, and the first call raises ``UnimplementedError`` if
    an op of the model has no deterministic XLA version (max pooling's
    gradient is one).

    Under the ``mixed_float16`` dtype policy the optimizer is wrapped in
    ``keras.optimizers.LossScaleOptimizer``, as ``Model.compile`` does: the
    loss is scaled up before the gradients are taken, so small float16
    gradients do not round to zero, and the gradients are scaled back before
    the update.

    Parameters
    ----------
    model : keras.Model
        The model to train (built).
    loss : str or keras.losses.Loss
        For example ``"mean_squared_error"``.
    optimizer : str or keras.optimizers.Optimizer
        A fresh optimizer (its state is created on the first step).
    jit_compile : bool
        Compile the step with XLA.

    Returns
    -------
    callable
        ``step(images, targets)`` returns the batch's loss (a scalar tensor).

    Raises
    ------
    TypeError
        If ``model`` is not a Keras model or ``jit_compile`` not a bool.
    RuntimeError
        Under a Keras backend other than TensorFlow.

    Examples
    --------
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> step = make_train_step(model, "mean_squared_error", keras.optimizers.SGD(0.1))
    >>> x, y = np.ones((8, 4), "float32"), np.zeros((8, 1), "float32")
    >>> first = float(step(x, y)); second = float(step(x, y))
    >>> second < first
    True
    """
    _backend.require_tensorflow("make_train_step (tf.function and XLA)")
    import tensorflow as tf

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model; received {type(model).__name__}.")
    if not isinstance(jit_compile, bool):
        raise TypeError(f"`jit_compile` must be True or False; received {jit_compile!r}.")
    loss_fn = keras.losses.get(loss)
    optimizer = keras.optimizers.get(optimizer)
    if model.dtype_policy.name == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

    @tf.function(jit_compile=jit_compile)
    def step(images, targets):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
            value = tf.reduce_mean(loss_fn(targets, tf.cast(predictions, "float32")))
            objective = optimizer.scale_loss(value) if scaled else value
        gradients = tape.gradient(objective, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return value

    return step
