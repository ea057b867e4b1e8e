"""Tests of cnn_tutor.models.compiled_step: one training step as a tf.function, with and without XLA."""

import numpy as np
import pytest

from cnn_tutor.models import compiled_step, restoration

keras = pytest.importorskip("keras")

# A TensorFlow lesson: tf.function, XLA and TensorFlow's loss scaling.
pytestmark = [
    pytest.mark.usefixtures("quiet_runtime", "tensorflow_backend"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]


@pytest.mark.parametrize("jit_compile", [False, True])
def test_train_step_lowers_the_loss_with_and_without_xla(jit_compile):
    model = restoration.build_conv_denoiser(depth=2, num_filters=4, compile=False, seed=0)
    step = compiled_step.make_train_step(model, "mean_squared_error", keras.optimizers.Adam(1e-2), jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    clean = rng.random((8, 12, 12, 1), dtype=np.float32)
    noisy = clean + 0.3 * rng.standard_normal(clean.shape).astype(np.float32)
    losses = [float(step(noisy, clean)) for _ in range(15)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_train_step_wraps_the_optimizer_for_float16():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert model.layers[0].compute_dtype == "float16" and model.layers[0].kernel.dtype == "float32"
    step = compiled_step.make_train_step(model, "mean_squared_error", keras.optimizers.SGD(0.01))
    x, y = np.ones((8, 4), "float32"), np.full((8, 1), 100.0, "float32")
    before = model.get_weights()
    first = float(step(x, y))
    # The loss scale starts at 2**15, so the scaled float16 gradients (about 200 * 2**15) overflow:
    # the LossScaleOptimizer skips that update and halves the scale. A bare SGD would write inf.
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    losses = [float(step(x, y)) for _ in range(20)]
    assert np.all(np.isfinite(model.get_weights()[0])) and losses[-1] < first


def test_train_step_errors_name_the_argument():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(TypeError, match=r"`jit_compile` must be True or False; received 'yes'"):
        compiled_step.make_train_step(model, "mse", jit_compile="yes")
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model"):
        compiled_step.make_train_step(None, "mse")
