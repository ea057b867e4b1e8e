"""Several workers: ``MultiWorkerMirroredStrategy`` set up in a fresh process, and real workers on 127.0.0.1.

Private: the public names are re-exported by :mod:`cnn_tutor.distribute`.
A worker process runs ``python -m cnn_tutor.distribute SPEC.json``.
"""

import contextlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import typing
import warnings

import numpy as np

from cnn_tutor import _validation, runtime
from cnn_tutor.distribute._strategies import global_batch_size, scaled_learning_rate


_TOO_LATE = (
    "MultiWorkerMirroredStrategy must be created before anything else in the process initialises "
    "TensorFlow (TensorFlow said: {error}); cnn_tutor.setup() and any first TensorFlow operation do "
    "that. In a worker's script, call cnn_tutor.distribute.setup_multi_worker(...) first, instead of "
    "cnn_tutor.setup(); from a notebook, whose kernel has already set up, run the workers as new "
    "processes with cnn_tutor.distribute.run_local_workers()."
)


def _check_workers(workers, index):
    if isinstance(workers, str) or not isinstance(workers, (list, tuple)) or len(workers) < 1:
        raise ValueError(
            "`workers` must be a non-empty list of 'host:port' addresses, one per worker, for example "
            f"['127.0.0.1:12345', '127.0.0.1:12346']; received {workers!r}."
        )
    for position, address in enumerate(workers):
        host, _, port = address.rpartition(":") if isinstance(address, str) else ("", "", "")
        if not host or not port.isdigit():
            raise ValueError(f"`workers[{position}]` must be a 'host:port' address; received {address!r}.")
    index = _validation.check_int("index", index, minimum=0)
    if index >= len(workers):
        raise ValueError(f"`index` must be < len(workers) ({len(workers)}); received {index}.")
    return list(workers), index


def setup_multi_worker(workers, index, *, profile=None, seed=0, verbose=True):
    """Join a cluster of workers: create ``MultiWorkerMirroredStrategy`` first, then set up as usual.

    Every worker runs the same script and calls this first, with the same
    ``workers`` and its own ``index``.  It writes ``TF_CONFIG`` (the cluster
    and this worker's place in it), imports TensorFlow with its start-up
    lines silenced, creates the strategy, which configures TensorFlow's
    collective operations, and only then runs :func:`cnn_tutor.setup`.  The
    order matters: collectives can only be configured before TensorFlow
    initialises, and ``setup()`` initialises it (its first operation), after
    which creating the strategy fails with "Collective ops must be
    configured at program startup".

    Parameters
    ----------
    workers : list of str
        ``"host:port"`` of every worker, the same list in every worker.
    index : int
        This worker's position in ``workers``; worker 0 is the chief.
    profile, seed, verbose
        Passed to :func:`cnn_tutor.setup`.

    Returns
    -------
    (Runtime, tf.distribute.MultiWorkerMirroredStrategy)
        The runtime of :func:`cnn_tutor.setup` and the strategy; its
        ``num_replicas_in_sync`` counts the devices of all workers.

    Raises
    ------
    ValueError
        If ``workers`` or ``index`` is malformed.
    RuntimeError
        If TensorFlow was already initialised in this process: the message
        says where to call this instead.

    Notes
    -----
    The strategy's first collective operation waits until every worker has
    joined; a worker that never starts leaves the others waiting.
    :func:`run_local_workers` runs a complete example on one machine.
    """
    workers, index = _check_workers(workers, index)
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
    already = "tensorflow" in sys.modules
    with runtime.quiet_stderr():
        import tensorflow as tf

        try:
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            raise RuntimeError(_TOO_LATE.format(error=error)) from error
    with warnings.catch_warnings():
        if not already:  # we imported TensorFlow ourselves, with its log lines silenced
            warnings.filterwarnings("ignore", message="TensorFlow was imported before cnn_tutor.setup")
        rt = runtime.setup(profile, seed=seed, verbose=verbose)
    return rt, strategy


class WorkerResult(typing.NamedTuple):
    """What one training process of :func:`run_local_workers` reports.

    ``index`` is the worker's index, or ``None`` for the single-process reference.
    """

    index: int | None
    num_replicas: int
    global_batch_size: int
    learning_rate: float
    losses: tuple
    test_accuracy: float
    seconds: float
    weights: list


class MultiWorkerRun(typing.NamedTuple):
    """The workers' results of :func:`run_local_workers` and, optionally, the one-process reference."""

    workers: tuple
    reference: WorkerResult | None

    def worker_difference(self):
        """The largest absolute difference between the weights of any worker and worker 0 (0 when in sync)."""
        first = self.workers[0].weights
        return max((_weights_difference(first, other.weights) for other in self.workers[1:]), default=0.0)

    def reference_difference(self):
        """The largest absolute difference between worker 0's weights and the reference's (None without one)."""
        if self.reference is None:
            return None
        return _weights_difference(self.workers[0].weights, self.reference.weights)


def _weights_difference(weights_a, weights_b):
    return float(max((np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max(initial=0.0)
                      for a, b in zip(weights_a, weights_b)), default=0.0))


def _free_ports(count):
    """Ports on 127.0.0.1 that are free now (bound and released, so the OS gives distinct ones)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _train_worker(spec):
    """The body of one process of :func:`run_local_workers` (run as ``python -m cnn_tutor.distribute SPEC``)."""
    if spec["index"] is None:
        rt = runtime.setup(spec["profile"], seed=spec["seed"], verbose=False)
        import tensorflow as tf

        strategy = tf.distribute.get_strategy()  # the default strategy: one process, one device
        num_replicas = spec["num_workers"]  # the reference trains with the workers' global batch and rate
    else:
        rt, strategy = setup_multi_worker(spec["workers"], spec["index"], profile=spec["profile"],
                                          seed=spec["seed"], verbose=False)
        import tensorflow as tf

        num_replicas = strategy.num_replicas_in_sync
    import keras

    from cnn_tutor.data import mnist as mnist_module
    from cnn_tutor.models import classifier

    keras.config.set_floatx(spec["dtype"])
    digits = mnist_module.load_mnist(profile=rt.profile, verbose=False)
    x_train = digits.x_train[: spec["num_train"]].astype(spec["dtype"])
    y_train = digits.y_train[: spec["num_train"]]
    batch = global_batch_size(spec["per_replica_batch"], num_replicas)
    rate = scaled_learning_rate(spec["learning_rate"], num_replicas)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=spec["seed"], reshuffle_each_iteration=True)
        .batch(batch, drop_remainder=True)  # every step has the full global batch (the loss scale below)
    )
    options = tf.data.Options()
    # Each worker reads the same pipeline and keeps its own share of every global batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = strategy.experimental_distribute_dataset(dataset.with_options(options))
    with strategy.scope():
        model = classifier.build_classifier(filters=tuple(spec["filters"]), dense_units=spec["dense_units"],
                                            seed=spec["seed"], compile=False)
        optimizer = keras.optimizers.Adam(learning_rate=rate)
        optimizer.build(model.trainable_variables)

    @tf.function
    def train_step(images, labels):
        def replica_step(images, labels):
            with tf.GradientTape() as tape:
                per_example = keras.losses.sparse_categorical_crossentropy(labels, model(images, training=True))
                # Sum over this replica's share / the global batch: the all-reduced (summed)
                # gradients are then the gradient of the mean loss over the global batch.
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))  # all-reduces the gradients
            return loss

        return strategy.reduce("SUM", strategy.run(replica_step, args=(images, labels)), axis=None)

    # A hand-written loop: Keras 3's fit() does not support MultiWorkerMirroredStrategy
    # (keras-team/keras#20585); MirroredStrategy on one machine works with fit.
    losses = []
    start = time.perf_counter()
    for _ in range(spec["epochs"]):
        total, steps = 0.0, 0
        for images, labels in batches:
            total += float(train_step(images, labels))
            steps += 1
        losses.append(total / steps)
    seconds = time.perf_counter() - start
    predictions = np.concatenate([
        np.argmax(model(digits.x_test[i:i + 500].astype(spec["dtype"]), training=False), axis=-1)
        for i in range(0, len(digits.x_test), 500)
    ])
    weights = model.get_weights()
    np.savez(spec["out"] + ".npz", *weights)
    result = {
        "index": spec["index"], "num_replicas": int(strategy.num_replicas_in_sync) if spec["index"] is not None
        else 1, "global_batch_size": batch, "learning_rate": rate, "losses": losses,
        "test_accuracy": float(np.mean(predictions == digits.y_test)), "seconds": seconds,
    }
    pathlib.Path(spec["out"] + ".json").write_text(json.dumps(result), encoding="utf-8")


def _read_result(out):
    result = json.loads(pathlib.Path(out + ".json").read_text(encoding="utf-8"))
    with np.load(out + ".npz") as archive:
        weights = [archive[f"arr_{i}"] for i in range(len(archive.files))]
    return WorkerResult(weights=weights, losses=tuple(result.pop("losses")), **result)


def _child_environment():
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    env.pop(runtime.RECORD_ENV, None)  # the workers record nothing into the benchmark's file
    env["CUDA_VISIBLE_DEVICES"] = ""  # CPU workers: the demonstration is the protocol, not speed
    # gRPC honours http_proxy/grpc_proxy; the workers talk to each other on loopback, never through a proxy.
    env["no_grpc_proxy"] = ",".join(filter(None, [env.get("no_grpc_proxy"), "127.0.0.1", "localhost"]))
    package_root = str(pathlib.Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_local_workers(num_workers=2, *, epochs=2, per_replica_batch=32, learning_rate=0.001, num_train=1_024,
                      filters=(8, 16), dense_units=32, dtype="float32", profile=None, seed=0, reference=True,
                      timeout=600):
    """Train a classifier with ``MultiWorkerMirroredStrategy`` on ``num_workers`` processes on 127.0.0.1.

    Each worker is a new Python process (so TensorFlow starts fresh in it and
    :func:`setup_multi_worker` can configure its collectives) that joins the
    others over the loopback interface only, trains the same small
    classifier (:func:`cnn_tutor.models.classifier.build_classifier` with
    ``filters`` and ``dense_units``) on the first ``num_train`` training
    digits of :func:`cnn_tutor.data.load_mnist`, with a global batch of
    :func:`global_batch_size` and Adam at :func:`scaled_learning_rate`, and
    writes back its losses, test accuracy and weights.  With ``reference``,
    one more process trains the same model without a strategy at the same
    global batch and rate, the single-device training that the workers
    should reproduce.  The processes share this machine's CPUs (GPUs are
    hidden from them): this shows the protocol and the arithmetic, not a
    speed-up.

    Parameters
    ----------
    num_workers : int
        Worker processes (``>= 1``; one replica each).
    epochs : int
        Passes over the training digits.
    per_replica_batch : int
        Examples per worker and step; the global batch is this times the replicas.
    learning_rate : float
        Adam's rate for one replica; scaled linearly with the replicas.
    num_train : int
        Training digits (the last incomplete global batch of each epoch is dropped).
    filters, dense_units
        The classifier's layers.
    dtype : {"float32", "float64"}
        Keras's float type in the workers (``float64`` shows that the workers
        and the reference differ by rounding only).
    profile : {"quick", "full"} or None
        The workers' profile (which MNIST); by default the current one.
    seed : int
        Seed of the weights and the shuffle, the same in every process.
    reference : bool
        Also train the one-process reference.
    timeout : float
        Seconds to wait for all processes; after it they are stopped.

    Returns
    -------
    MultiWorkerRun
        ``workers`` (one :class:`WorkerResult` per worker, by index) and
        ``reference`` (or None); ``worker_difference()`` and
        ``reference_difference()`` compare their weights.

    Raises
    ------
    ValueError, TypeError
        If an argument is out of range.
    RuntimeError
        If a process fails or does not finish within ``timeout``; the message
        holds the end of its error output.
    """
    num_workers = _validation.check_int("num_workers", num_workers, minimum=1)
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    per_replica_batch = _validation.check_int("per_replica_batch", per_replica_batch, minimum=1)
    num_train = _validation.check_int("num_train", num_train, minimum=1)
    seed = _validation.check_int("seed", seed, minimum=0)
    _validation.check_choice("dtype", dtype, ("float32", "float64"))
    timeout = _validation.check_float("timeout", timeout, minimum=1.0)
    scaled_learning_rate(learning_rate, num_workers)  # checks learning_rate
    if num_train < per_replica_batch * num_workers:
        raise ValueError(
            f"`num_train` must hold at least one global batch ({per_replica_batch} x {num_workers} workers = "
            f"{per_replica_batch * num_workers}); received {num_train}."
        )
    if profile is None:
        profile = runtime.current_profile()
    _validation.check_choice("profile", profile, runtime.PROFILES)
    workers = [f"127.0.0.1:{port}" for port in _free_ports(num_workers)]
    indices = [*range(num_workers), *([None] if reference else [])]
    with tempfile.TemporaryDirectory(prefix="cnn_tutor_workers_") as scratch:
        processes = {}
        try:
            for index in indices:
                out = str(pathlib.Path(scratch) / f"worker_{'reference' if index is None else index}")
                spec = {
                    "index": index, "workers": workers, "num_workers": num_workers, "profile": profile, "seed": seed,
                    "epochs": epochs, "per_replica_batch": per_replica_batch, "learning_rate": float(learning_rate),
                    "num_train": num_train, "filters": list(filters), "dense_units": int(dense_units),
                    "dtype": dtype, "out": out,
                }
                spec_path = out + ".spec.json"
                pathlib.Path(spec_path).write_text(json.dumps(spec), encoding="utf-8")
                log = open(out + ".log", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
                processes[index] = (out, log, subprocess.Popen(
                    [sys.executable, "-m", "cnn_tutor.distribute", spec_path],
                    stdout=log, stderr=subprocess.STDOUT, env=_child_environment(), cwd=scratch,
                ))
            deadline = time.monotonic() + timeout
            for index, (out, log, process) in processes.items():
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    raise RuntimeError(
                        f"the {'reference' if index is None else f'worker {index}'} did not finish within "
                        f"`timeout`={timeout:g} s; raise it, or lower `num_train` or `epochs`."
                    ) from None
                if process.returncode != 0:
                    log.seek(0)
                    tail = log.read()[-3000:]
                    raise RuntimeError(
                        f"the {'reference' if index is None else f'worker {index}'} failed (exit status "
                        f"{process.returncode}); the end of its output:\n{tail}"
                    )
            results = {index: _read_result(out) for index, (out, _, _) in processes.items()}
        finally:
            for _, log, process in processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
                log.close()
    return MultiWorkerRun(
        workers=tuple(results[index] for index in range(num_workers)),
        reference=results.get(None),
    )


def _main(argv):
    if len(argv) != 1:
        raise SystemExit("usage: python -m cnn_tutor.distribute SPEC.json (started by run_local_workers)")
    _train_worker(json.loads(pathlib.Path(argv[0]).read_text(encoding="utf-8")))
