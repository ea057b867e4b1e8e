"""Checkpoints that resume a training: weights, optimizer state, random state and epoch.

A long training (the DCGAN, the full profile) should survive an interrupted
kernel.  :class:`ResumableCheckpoint` saves, after every epoch, every variable
of the model (``model.variables``: the weights, the batch-normalisation
statistics and the state of its random seed generators) and of its optimizer
(``model.optimizer.variables``: moments and step count), with the epoch, as
one NumPy ``.npz`` file; :func:`restore_checkpoint` assigns them back to a
freshly built model of the same architecture and returns the epoch, which
``fit`` then takes as ``initial_epoch``.

What a checkpoint does not hold is the order of the data: the resumed
``fit`` builds a new pipeline, whose shuffle starts again from the order of
the first epoch.  A resumed training therefore continues from the same
weights and optimizer state, but it is not bit for bit the training that an
uninterrupted run would have done.

Variables are read and assigned through Keras (``keras.ops.convert_to_numpy``,
``Variable.assign``), so this works on every backend; the files are written
atomically and only the last ``max_to_keep`` are kept.

Used by the Generation chapter (:func:`cnn_tutor.models.training.train_dcgan`).
"""

import os
import pathlib
import re

import keras
import numpy as np

__all__ = ["ResumableCheckpoint", "latest_checkpoint", "restore_checkpoint", "save_checkpoint"]

_NAME = re.compile(r"^ckpt-(\d{4,})\.npz$")


def _state(model):
    """The variables a checkpoint holds, in a fixed order: the model's, then its optimizer's."""
    variables = list(model.variables)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        variables += list(optimizer.variables)
    return variables


def save_checkpoint(model, directory, epoch, *, max_to_keep=2):
    """Write the state of ``model`` after ``epoch`` epochs to ``directory/ckpt-EPOCH.npz``; return the path.

    Parameters
    ----------
    model : keras.Model
        A built (and usually compiled) model.
    directory : str or pathlib.Path
        Where to keep the checkpoints (created if needed).
    epoch : int
        Epochs trained so far.
    max_to_keep : int
        Older checkpoints beyond this many are deleted.

    Returns
    -------
    pathlib.Path
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {f"v{index:05d}": keras.ops.convert_to_numpy(variable) for index, variable in enumerate(_state(model))}
    paths = np.array([variable.path for variable in _state(model)])
    path = directory / f"ckpt-{int(epoch):04d}.npz"
    partial = directory / f".ckpt-{int(epoch):04d}.partial-{os.getpid()}.npz"
    np.savez(partial, epoch=np.int64(epoch), paths=paths, **arrays)
    os.replace(partial, path)
    for old in sorted(_checkpoints(directory))[:-max_to_keep]:
        old[1].unlink()
    return path


def _checkpoints(directory):
    directory = pathlib.Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def latest_checkpoint(directory):
    """The newest checkpoint file in ``directory``, or ``None``."""
    found = sorted(_checkpoints(directory))
    return found[-1][1] if found else None


def restore_checkpoint(model, directory):
    """Restore the newest checkpoint of ``directory`` into ``model``; return its epoch (0 if there is none).

    Raises
    ------
    ValueError
        If the checkpoint holds another number of variables, or variables of
        other shapes, than ``model`` (another architecture or optimizer).
    """
    path = latest_checkpoint(directory)
    if path is None:
        return 0
    variables = _state(model)
    with np.load(path, allow_pickle=False) as saved:
        count = len(saved["paths"])
        if count != len(variables):
            raise ValueError(
                f"The checkpoint {path} holds {count} variables but `model` has {len(variables)}: it was saved "
                "from another architecture or optimizer. Use another `checkpoint_dir`."
            )
        for index, variable in enumerate(variables):
            value = saved[f"v{index:05d}"]
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"The checkpoint {path} holds {saved['paths'][index]!s} with shape {value.shape}, but `model`'s "
                    f"{variable.path} has shape {tuple(variable.shape)}. Use another `checkpoint_dir`."
                )
            variable.assign(value)
        return int(saved["epoch"])


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save the model's and its optimizer's state after every epoch (:func:`save_checkpoint`).

    Parameters
    ----------
    directory : str or pathlib.Path
        Where to keep the checkpoints (outside the repository).
    max_to_keep : int
        How many to keep.
    """

    def __init__(self, directory, *, max_to_keep=2):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.max_to_keep = int(max_to_keep)

    def on_epoch_end(self, epoch, logs=None):
        """Save the state after this epoch."""
        save_checkpoint(self.model, self.directory, epoch + 1, max_to_keep=self.max_to_keep)
