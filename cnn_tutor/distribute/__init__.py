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

Scaling with the number of replicas: each replica should keep the batch it
trains well with, so the global batch grows with the replicas
(:func:`global_batch_size`), and the learning rate with it
(:func:`scaled_learning_rate`, the linear scaling rule).

Several machines: ``tf.distribute.MultiWorkerMirroredStrategy`` runs the
same all-reduce between processes (workers) over the network.  TensorFlow
fixes its collective operations when it first initialises, so the strategy
must be created before anything else uses TensorFlow:
:func:`setup_multi_worker` does that and then the usual set-up, and
:func:`run_local_workers` starts real workers as processes on 127.0.0.1 and
collects their results, so a notebook can run one.

Strategies and batch arithmetic live in ``_strategies``, the multi-worker
launch in ``_workers``; every public name is imported from here.

Used by the Future directions chapter.
"""

from cnn_tutor.distribute._strategies import (
    check_strategy,
    global_batch_size,
    make_strategy,
    max_weight_difference,
    replica_devices,
    scaled_learning_rate,
    single_device_strategy,
)
from cnn_tutor.distribute._workers import MultiWorkerRun, WorkerResult, run_local_workers, setup_multi_worker

__all__ = [
    "MultiWorkerRun",
    "WorkerResult",
    "check_strategy",
    "global_batch_size",
    "make_strategy",
    "max_weight_difference",
    "replica_devices",
    "run_local_workers",
    "scaled_learning_rate",
    "setup_multi_worker",
    "single_device_strategy",
]

