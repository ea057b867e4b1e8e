"""Tests of cnn_tutor.distribute, setup(cpu_devices=...) and the `strategy` argument of the training helpers.

The pytest process has TensorFlow initialised with one CPU device, so the
tests that need two logical CPUs run in a fresh interpreter.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from cnn_tutor import distribute, runtime
from cnn_tutor.models import classifier, restoration, training

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

pytestmark = [
    pytest.mark.usefixtures("quiet_runtime", "tensorflow_backend"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]


def _small_classifier(**kwargs):
    return classifier.build_classifier(filters=(4, 8), dense_units=8, seed=0, **kwargs)


def test_replica_devices_and_strategies_in_this_process():
    devices = distribute.replica_devices()
    assert devices and all(isinstance(name, str) for name in devices)
    assert distribute.make_strategy().num_replicas_in_sync == len(devices)
    assert distribute.single_device_strategy().num_replicas_in_sync == 1


def test_strategy_argument_errors_name_the_argument(tiny_mnist):
    strategy = distribute.make_strategy(["/cpu:0"])
    outside = _small_classifier()
    with pytest.raises(ValueError, match=r"`model` must be built \(and compiled\) under `strategy.scope\(\)`"):
        training.train_classifier(outside, tiny_mnist, epochs=1, strategy=strategy)
    with pytest.raises(TypeError, match=r"`strategy` must be a tf.distribute.Strategy .*; received str"):
        training.train_classifier(outside, tiny_mnist, epochs=1, strategy="mirrored")
    denoiser = restoration.build_conv_denoiser(depth=2, num_filters=4, seed=0)
    with pytest.raises(ValueError, match=r"built \(and compiled\) under `strategy.scope\(\)`"):
        training.train_restoration(denoiser, tiny_mnist.x_train, tiny_mnist.x_train, epochs=1, strategy=strategy)
    with pytest.raises(TypeError, match=r"`strategy` must be a tf.distribute.Strategy"):
        training.train_restoration(denoiser, tiny_mnist.x_train, tiny_mnist.x_train, epochs=1, strategy=object())


def test_training_helpers_train_under_a_strategy(tiny_mnist):
    strategy = distribute.single_device_strategy("/cpu:0")
    with strategy.scope():
        model = _small_classifier()
        denoiser = restoration.build_conv_denoiser(depth=2, num_filters=4, seed=0)
    run = training.train_classifier(model, tiny_mnist, epochs=2, batch_size=8, strategy=strategy)
    assert len(run.history["loss"]) == 2 and np.all(np.isfinite(run.history["loss"]))
    run = training.train_restoration(
        denoiser, tiny_mnist.x_train, tiny_mnist.x_train, epochs=1, batch_size=8, strategy=strategy
    )
    assert np.isfinite(run.history["loss"][0])


def test_without_strategy_the_helpers_behave_as_before(tiny_mnist):
    run = training.train_classifier(_small_classifier(), tiny_mnist, epochs=1, batch_size=8, strategy=None)
    assert len(run.epoch_seconds) == 1


def test_make_strategy_and_device_errors():
    with pytest.raises(ValueError, match=r"`devices` must be a non-empty sequence of device names"):
        distribute.make_strategy([])
    with pytest.raises(TypeError, match=r"`devices\[1\]` must be a device name \(str\); received 1"):
        distribute.make_strategy(["/cpu:0", 1])
    with pytest.raises(TypeError, match=r"`device` must be a device name"):
        distribute.single_device_strategy(0)


def test_max_weight_difference():
    a = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    b = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    b.set_weights([w + 0.25 for w in a.get_weights()])
    assert distribute.max_weight_difference(a, b) == pytest.approx(0.25)
    c = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match=r"must have the same weight shapes"):
        distribute.max_weight_difference(a, c)


def test_setup_checks_cpu_devices_before_importing_tensorflow():
    with pytest.raises(ValueError, match=r"`cpu_devices` must be >= 1; received 0"):
        runtime.setup("quick", cpu_devices=0)
    with pytest.raises(TypeError, match=r"`cpu_devices` must be an integer; received '2'"):
        runtime.setup("quick", cpu_devices="2")


def _run_fresh(code):
    """Run ``code`` in a fresh interpreter; return the JSON it prints last."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_setup_cpu_devices_too_late_is_a_clear_error_and_the_same_split_is_fine():
    code = """
import json, cnn_tutor
rt = cnn_tutor.setup("quick", verbose=False, cpu_devices=2)
again = cnn_tutor.setup("quick", verbose=False, cpu_devices=2)   # the same split: fine
import tensorflow as tf
count = len(tf.config.list_logical_devices("CPU"))
try:
    cnn_tutor.setup("quick", verbose=False, cpu_devices=3)
    message = None
except RuntimeError as error:
    message = str(error)
print(json.dumps({"count": count, "message": message}))
"""
    out = _run_fresh(code)
    assert out["count"] == 2
    assert out["message"] is not None
    assert "`cpu_devices=3` must be set before TensorFlow initialises its devices" in out["message"]
    assert "2 logical CPU device(s)" in out["message"] and "Restart the kernel" in out["message"]


def test_mirrored_training_on_two_logical_cpus_matches_one_device_in_float64():
    """Two replicas, each half of every batch, all-reduced: the same training as one device.

    In float64 the only difference, the order of the sums, is far below the
    tolerance, so a wrong split or a missing all-reduce (which would change
    the loss at the first step) fails the test.
    """
    code = """
import json, cnn_tutor, numpy as np
rt = cnn_tutor.setup("quick", verbose=False, cpu_devices=2)
import keras
from cnn_tutor import distribute
from cnn_tutor.data import MNIST
from cnn_tutor.models import classifier, restoration, training
rng = np.random.default_rng(0)
x = rng.random((40, 28, 28, 1), dtype=np.float32)
toy = MNIST(x, np.arange(40) % 10, x[:8], np.arange(8) % 10, "toy", "toy")
keras.config.set_floatx("float64")
out = {}
mirrored = distribute.make_strategy()
out["replicas"] = mirrored.num_replicas_in_sync
runs = {}
for name, strategy in (("one", distribute.single_device_strategy()), ("two", mirrored)):
    with strategy.scope():
        model = classifier.build_classifier(filters=(4, 8), dense_units=8, seed=0)
        denoiser = restoration.build_conv_denoiser(depth=2, num_filters=4, seed=0)
    history = training.train_classifier(model, toy, epochs=2, batch_size=16, strategy=strategy).history
    training.train_restoration(denoiser, x, x, epochs=1, batch_size=16, strategy=strategy)
    runs[name] = (model, denoiser, history["loss"])
out["losses"] = [runs["one"][2], runs["two"][2]]
out["classifier"] = distribute.max_weight_difference(runs["one"][0], runs["two"][0])
out["denoiser"] = distribute.max_weight_difference(runs["one"][1], runs["two"][1])
out["moved"] = distribute.max_weight_difference(runs["two"][0], classifier.build_classifier(filters=(4, 8), dense_units=8, seed=0))
print(json.dumps(out))
"""
    out = _run_fresh(code)
    assert out["replicas"] == 2
    one, two = out["losses"]
    np.testing.assert_allclose(two, one, rtol=1e-10)
    assert out["classifier"] < 1e-10 and out["denoiser"] < 1e-10
    assert out["moved"] > 1e-3  # the models did train
