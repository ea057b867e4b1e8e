"""Helpers shared by the model builders: seeding the initial weights and the usual compile.

Private: the builders of :mod:`cnn_tutor.models` call these.
"""

import keras

from cnn_tutor import _validation, runtime


def seed_weights(seed):
    """Seed Keras (``keras.utils.set_random_seed``) before weights are created; return the seed used.

    ``None`` means the runtime's seed (:func:`cnn_tutor.runtime.current_seed`:
    the seed of the last ``cnn_tutor.setup()``, 0 without one), so the same
    arguments always give the same initial weights.  This also reseeds
    Python's, NumPy's and (where it is installed) TensorFlow's global
    generators, as ``setup`` does.
    """
    seed = runtime.resolve_seed(seed)
    # Keras also seeds TensorFlow when it is installed, importing it under any backend; keep
    # TensorFlow's start-up lines out of the output (they print once, on that import).
    with runtime.quiet_stderr():
        keras.utils.set_random_seed(seed)
    return seed


def compile_mse(model, compile, learning_rate):
    """Compile ``model`` with Adam at ``learning_rate`` and the mean squared error when ``compile`` is true."""
    if compile:
        learning_rate = _validation.check_float("learning_rate", learning_rate)
        if learning_rate <= 0:
            raise ValueError(f"`learning_rate` must be > 0; received {learning_rate}.")
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mean_squared_error")
    return model
