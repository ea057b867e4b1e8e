"""The trained-model cache: where a model trained with given data and settings is kept, and reloaded.

Models are saved in Keras's native ``.keras`` format (a zip of JSON and
weights, no pickle), atomically, and loaded with
``keras.saving.load_model(path, safe_mode=True)``.  The cache lives outside
the repository (``~/.cache/cnn_tutor``, or ``$CNN_TUTOR_CACHE``), and a file's
name is a hash of the training data, the settings and the library versions
and backend, so a model trained on other data, with another budget or by
another backend is never picked up by mistake.

Used by the Keras models, Generation and FAQ chapters.
"""

import hashlib
import json
import os
import pathlib

import keras
import numpy as np

from cnn_tutor import _backend, _validation, runtime
from cnn_tutor.models import classifier, training

__all__ = ["CACHE_ENV", "cache_dir", "classifier_path", "load_or_train_classifier", "save_model"]

#: Environment variable that moves the model cache (default ``~/.cache/cnn_tutor``).
CACHE_ENV = "CNN_TUTOR_CACHE"


def cache_dir():
    """Directory of the model cache: ``$CNN_TUTOR_CACHE`` or ``~/.cache/cnn_tutor`` (outside the repository)."""
    return pathlib.Path(os.environ.get(CACHE_ENV) or pathlib.Path.home() / ".cache" / "cnn_tutor")


def _cache_key(mnist, hyperparameters):
    digest = hashlib.sha256()
    for array in (mnist.x_train, mnist.y_train):
        digest.update(np.ascontiguousarray(array).tobytes())
    versions = _backend.versions()
    description = dict(
        hyperparameters,
        data=digest.hexdigest(),
        source=str(getattr(mnist, "source", "")),
        keras=keras.__version__,
        backend=versions["backend"],
        library=versions.get(versions["backend"]),
    )
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:16]


def classifier_path(mnist, *, epochs, seed=None, batch_size=64):
    """Where :func:`load_or_train_classifier` keeps the model trained with these settings.

    The name is a hash of the training data, the settings, the Keras version
    and the backend with its version, under :func:`cache_dir` (outside the
    repository).  ``seed=None`` means the runtime's seed.

    Examples
    --------
    >>> from cnn_tutor.data import MNIST
    >>> toy = MNIST(np.zeros((2, 28, 28, 1)), np.arange(2), np.zeros((1, 28, 28, 1)), np.arange(1), "toy", "toy")
    >>> classifier_path(toy, epochs=1).suffix
    '.keras'
    """
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    seed = runtime.resolve_seed(seed)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    key = _cache_key(mnist, {"model": "article_cnn", "epochs": epochs, "seed": seed, "batch_size": batch_size})
    return cache_dir() / f"article_cnn-{key}.keras"


def save_model(model, path):
    """Save a model in Keras's native ``.keras`` format, atomically (no reader sees half a file).

    The model is written to a temporary file next to ``path`` and moved into
    place, so a reader never loads a half-written file.

    Parameters
    ----------
    model : keras.Model
        Any model (the package's custom layers and models are registered, so
        they load back with ``safe_mode=True``).
    path : str or pathlib.Path
        Where to save it; must end in ``.keras``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.keras``.
    """
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"`path` must end in '.keras' (Keras's native format); received {str(path)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.partial-{os.getpid()}.keras")
    model.save(partial)
    os.replace(partial, path)
    return path


def load_or_train_classifier(mnist, *, epochs, path=None, seed=None, batch_size=64, retrain=False, verbose=False):
    """The article's classifier trained on ``mnist``: loaded from the cache, or trained and saved.

    The model is saved in Keras's native ``.keras`` format (no pickle) and
    loaded with ``keras.saving.load_model(path, safe_mode=True)``.  By
    default the file is :func:`classifier_path`, whose name is derived from
    the training data, the settings and the library versions, so a model
    trained on other data or with another budget is never picked up by
    mistake.  Training is reproducible: ``build_classifier(seed=seed)`` then
    ``train_classifier(model, mnist, epochs=epochs, batch_size=batch_size,
    seed=seed)``, with deterministic kernels on (``cnn_tutor.setup()``),
    gives the same model on the same machine.

    Parameters
    ----------
    mnist : MNIST
        The split from :func:`cnn_tutor.data.load_mnist`.
    epochs : int
        Training epochs (ask the runtime: ``rt.epochs(quick=..., full=...)``).
    path : str or pathlib.Path, optional
        Where to keep the model (must end in ``.keras``); default: the cache.
    seed : int, optional
        Seed of the weights and the shuffle (``None``: the runtime's seed).
    batch_size : int
        Images per batch.
    retrain : bool
        Train (and overwrite the file) even if it exists.
    verbose : bool
        Print one line saying whether the model was loaded or trained.  Off
        by default: which of the two happens depends on what earlier runs
        left in the cache, and a chapter's output must not.

    Returns
    -------
    keras.Model

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.keras``, or the data do not fit.
    """
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    seed = runtime.resolve_seed(seed)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    path = classifier_path(mnist, epochs=epochs, seed=seed, batch_size=batch_size) if path is None else pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"`path` must end in '.keras' (Keras's native format); received {str(path)!r}.")
    if path.exists() and not retrain:
        model = keras.saving.load_model(path, safe_mode=True)
        if verbose:
            print(f"Loaded the trained classifier ({epochs} epoch(s), seed {seed}) from the model cache")
        return model
    model = classifier.build_classifier(seed=seed)
    training.train_classifier(model, mnist, epochs=epochs, batch_size=batch_size, seed=seed)
    save_model(model, path)
    if verbose:
        print(f"Trained the classifier ({epochs} epoch(s), seed {seed}) and saved it to the model cache")
    return model
