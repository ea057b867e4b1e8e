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


# --- scaling with the replicas ------------------------------------------------


def test_global_batch_grows_with_the_replicas():
    assert distribute.global_batch_size(64, 1) == 64
    assert distribute.global_batch_size(64, 8) == 512
    assert distribute.global_batch_size(16, distribute.make_strategy(["/cpu:0"])) == 16


def test_learning_rate_scales_linearly_with_the_replicas():
    assert distribute.scaled_learning_rate(0.01, 4) == pytest.approx(0.04)
    assert distribute.scaled_learning_rate(0.1, 3, reference_replicas=6) == pytest.approx(0.05)
    assert distribute.scaled_learning_rate(0.001, distribute.single_device_strategy("/cpu:0")) == pytest.approx(0.001)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: distribute.global_batch_size(0, 2), ValueError, r"`per_replica_batch` must be >= 1; received 0"),
        (lambda: distribute.global_batch_size(8.0, 2), TypeError, r"`per_replica_batch` must be an integer"),
        (lambda: distribute.global_batch_size(8, 0), ValueError, r"`strategy` must be >= 1; received 0"),
        (lambda: distribute.global_batch_size(8, True), TypeError, r"`strategy` must be a tf.distribute.Strategy or a number of replicas; received True"),
        (lambda: distribute.global_batch_size(8, "mirrored"), TypeError, r"`strategy` must be a tf.distribute.Strategy .*received str"),
        (lambda: distribute.scaled_learning_rate(-0.1, 2), ValueError, r"`learning_rate` must be > 0; received -0.1"),
        (lambda: distribute.scaled_learning_rate(0.1, 2, reference_replicas=0), ValueError, r"`reference_replicas` must be >= 1"),
    ],
)
def test_scaling_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- several workers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("workers", "index", "message"),
    [
        ("127.0.0.1:1234", 0, r"`workers` must be a non-empty list of 'host:port' addresses"),
        ([], 0, r"`workers` must be a non-empty list"),
        (["127.0.0.1:1234", "localhost"], 0, r"`workers\[1\]` must be a 'host:port' address; received 'localhost'"),
        (["127.0.0.1:1234", "127.0.0.1:x"], 0, r"`workers\[1\]` must be a 'host:port' address"),
        (["127.0.0.1:1234"], 1, r"`index` must be < len\(workers\) \(1\); received 1"),
    ],
)
def test_setup_multi_worker_argument_errors(workers, index, message):
    with pytest.raises(ValueError, match=message):
        distribute.setup_multi_worker(workers, index)


def test_multi_worker_strategy_after_setup_is_a_clear_error(monkeypatch):
    """This process has run TensorFlow ops already (the module's setup), so collectives can no longer be configured."""
    monkeypatch.setenv("TF_CONFIG", "")  # restored afterwards: setup_multi_worker writes it
    with pytest.raises(RuntimeError) as info:
        distribute.setup_multi_worker(["127.0.0.1:1", "127.0.0.1:2"], 0, verbose=False)
    message = str(info.value)
    assert "Collective ops must be configured at program startup" in message
    assert "must be created before anything else in the process initialises TensorFlow" in message
    assert "run_local_workers()" in message


def test_run_local_workers_errors():
    with pytest.raises(ValueError, match=r"`num_train` must hold at least one global batch \(32 x 2 workers = 64\); received 50"):
        distribute.run_local_workers(2, num_train=50)
    with pytest.raises(ValueError, match=r"`dtype` must be one of 'float32', 'float64'"):
        distribute.run_local_workers(2, dtype="float16")
    with pytest.raises(ValueError, match=r"`learning_rate` must be > 0"):
        distribute.run_local_workers(2, learning_rate=0)


def test_two_workers_on_loopback_train_as_one_device():
    """A real MultiWorkerMirroredStrategy run: two processes joined over 127.0.0.1, plus a one-process reference.

    In float64 the only difference between the workers' all-reduced training and
    the single process with the same global batch is the order of the sums, so a
    wrong shard (both workers on the same half), a missing all-reduce (workers
    drifting apart) or a wrong loss scale (the gradient off by the factor 2) fails.
    """
    run = distribute.run_local_workers(2, epochs=2, per_replica_batch=16, num_train=128, learning_rate=0.002,
                                       dtype="float64", profile="quick", timeout=400)
    assert [worker.index for worker in run.workers] == [0, 1] and run.reference.index is None
    for result in (*run.workers, run.reference):
        assert result.global_batch_size == 32 and result.learning_rate == pytest.approx(0.004)
        assert len(result.losses) == 2 and result.losses[1] < result.losses[0]
    assert [worker.num_replicas for worker in run.workers] == [2, 2] and run.reference.num_replicas == 1
    np.testing.assert_allclose(run.workers[1].losses, run.workers[0].losses, rtol=1e-12)
    np.testing.assert_allclose(run.workers[0].losses, run.reference.losses, rtol=1e-10)
    assert run.worker_difference() < 1e-12
    assert run.reference_difference() < 1e-10
    assert run.workers[0].test_accuracy == pytest.approx(run.reference.test_accuracy, abs=1e-3)
    initial = classifier.build_classifier(filters=(8, 16), dense_units=32, seed=0, compile=False).get_weights()
    assert distribute._workers._weights_difference(run.workers[0].weights, initial) > 1e-3  # they did train
