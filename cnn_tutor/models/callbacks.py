"""Callbacks of the package's training: epoch times, a generator's sample grid, the best epoch on validation.

- :class:`EpochTimer`: wall-clock seconds of every epoch;
- :class:`SampleGrid`: a DCGAN generator's images for one fixed noise batch
  after every epoch;
- :class:`KeepBest`: early stopping by any validation score (not only a
  loss): the weights of the best-scoring epoch are restored at the end.

:func:`cnn_tutor.models.training.fit` adds the timer itself; the others are
passed as ``callbacks``.  Used by the Keras models and Generation chapters.
"""

import pathlib

import keras
import numpy as np

from cnn_tutor import _validation, timing
from cnn_tutor.models import gan as gan_module

__all__ = ["EpochTimer", "KeepBest", "SampleGrid"]


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch (:class:`cnn_tutor.timing.Timer`), in ``seconds``."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self._timer = None

    def on_epoch_begin(self, epoch, logs=None):
        """Start the epoch's clock."""
        self._timer = timing.Timer().__enter__()

    def on_epoch_end(self, epoch, logs=None):
        """Stop it and keep the epoch's seconds."""
        self._timer.__exit__(None, None, None)
        self.seconds.append(self._timer.seconds)


class SampleGrid(keras.callbacks.Callback):
    """The generator's images for a fixed noise batch after every epoch, in ``grids`` (``epoch -> images``).

    The same noise every epoch shows how one set of samples evolves.  With a
    ``directory`` the grids are also written there as ``epoch_XXXX.npy``.

    Parameters
    ----------
    noise : array_like
        ``(k, latent_dim)`` noise.
    directory : str or pathlib.Path, optional
        Where to save each grid.
    """

    def __init__(self, noise, directory=None):
        super().__init__()
        self.noise = _validation.as_float_array("noise", noise).astype(np.float32)
        _validation.check_ndim("noise", self.noise, 2, "(samples, latent_dim)")
        self.directory = None if directory is None else pathlib.Path(directory)
        self.grids = {}

    def on_epoch_end(self, epoch, logs=None):
        """Decode the fixed noise with the generator (inference mode) and keep the images."""
        images = gan_module.from_tanh_range(keras.ops.convert_to_numpy(self.model.generator(self.noise, training=False)))
        self.grids[epoch + 1] = images.astype(np.float32)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            np.save(self.directory / f"epoch_{epoch + 1:04d}.npy", self.grids[epoch + 1])


class KeepBest(keras.callbacks.Callback):
    """Score the model on validation data after every epoch and keep the weights of the best epoch.

    Early stopping by a score that is not a loss (a detector's average
    precision on validation canvases, for instance): ``score(model)`` is
    called after every epoch, the scores are kept in ``scores``
    (``epoch -> score``, from 1), and at the end of training the weights of
    the best-scoring epoch are restored (ties go to the earlier epoch).  No
    test data should ever be scored here.

    Parameters
    ----------
    score : callable
        ``score(model) -> float``, higher is better.
    restore : bool
        Restore the best epoch's weights when training ends.

    Examples
    --------
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    >>> x = np.ones((8, 1), "float32")
    >>> keep = KeepBest(lambda m: -abs(float(m.predict(x[:1], verbose=0)[0, 0]) - 2.0))
    >>> _ = model.fit(x, 2.0 * x, epochs=4, batch_size=8, verbose=0, callbacks=[keep])
    >>> sorted(keep.scores) == [1, 2, 3, 4], keep.best_epoch in keep.scores
    (True, True)
    """

    def __init__(self, score, *, restore=True):
        super().__init__()
        if not callable(score):
            raise TypeError(f"`score` must be callable (model -> float); received {type(score).__name__}.")
        self.score = score
        self.restore = _validation.check_bool("restore", restore)
        self.scores = {}
        self.best_epoch = None
        self._best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        """Score the model; remember its weights when the score is the best so far."""
        value = float(self.score(self.model))
        if not np.isfinite(value):
            raise ValueError(f"`score` returned {value} after epoch {epoch + 1}; it must be a finite number.")
        self.scores[epoch + 1] = value
        if self.best_epoch is None or value > self.scores[self.best_epoch]:
            self.best_epoch = epoch + 1
            self._best_weights = [keras.ops.convert_to_numpy(w) for w in self.model.weights]

    def on_train_end(self, logs=None):
        """Put back the weights of the best epoch."""
        if self.restore and self._best_weights is not None:
            for variable, value in zip(self.model.weights, self._best_weights):
                variable.assign(value)
