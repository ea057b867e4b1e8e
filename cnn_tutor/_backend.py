"""Which Keras backend runs, whether TensorFlow is there, and clear errors for TensorFlow lessons.

Keras 3 runs on TensorFlow, JAX or PyTorch (``KERAS_BACKEND``).  The
package's models, losses, metrics and training steps use ``keras.ops`` and
run on any of them; a few lessons are about TensorFlow itself (``tf.data``,
``tf.distribute``, ``tf.function`` and XLA, the TensorFlow profiler) and call
:func:`require_tensorflow` first, so that under another backend they fail
with a message that says why instead of a traceback from deep inside Keras.

Private: the public modules call these.  Nothing here imports Keras or
TensorFlow at module level.
"""

import importlib.metadata
import importlib.util
import json
import os
import pathlib
import sys

#: The backends Keras 3 offers.
BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")

#: Distribution names under which TensorFlow is published (the module is ``tensorflow`` for all).
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tf-nightly")


def name():
    """The Keras backend: the imported one if Keras is loaded, else what Keras will choose.

    Keras reads ``KERAS_BACKEND``, then the ``backend`` entry of
    ``$KERAS_HOME/keras.json`` (default ``~/.keras/keras.json``), and falls
    back to TensorFlow; this function follows the same order without
    importing Keras (which would import the backend).

    Examples
    --------
    >>> name() in BACKENDS
    True
    """
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    chosen = os.environ.get("KERAS_BACKEND", "").strip()
    if chosen:
        return chosen
    home = os.environ.get("KERAS_HOME") or str(pathlib.Path.home() / ".keras")
    try:
        config = json.loads((pathlib.Path(home) / "keras.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    return str(config.get("backend", "tensorflow"))


def is_tensorflow():
    """Whether the Keras backend is TensorFlow."""
    return name() == "tensorflow"


def tensorflow_available():
    """Whether TensorFlow can be imported here (without importing it)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"] is not None
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):  # a blocked or broken installation
        return False


def use_tensorflow():
    """Whether to use TensorFlow's own functions (``tf.data``, ``tf.image``): the backend is TensorFlow, and it is installed."""
    return is_tensorflow() and tensorflow_available()


def require_tensorflow(what):
    """Raise ``RuntimeError`` unless ``what`` can run: the Keras backend is TensorFlow.

    Parameters
    ----------
    what : str
        The lesson or function, for the message (for example
        ``"profile_flops (TensorFlow's graph profiler)"``).

    Raises
    ------
    RuntimeError
        Under another backend, or where TensorFlow is not installed.
    """
    backend = name()
    if backend != "tensorflow":
        raise RuntimeError(
            f"{what} is a TensorFlow lesson and needs the TensorFlow backend of Keras; this process runs "
            f"the {backend!r} backend. Run it with KERAS_BACKEND=tensorflow (the book's default)."
        )
    if not tensorflow_available():
        raise RuntimeError(f"{what} needs TensorFlow, which is not installed here: pip install tensorflow.")


def distribution_version(*names):
    """The installed version of the first of the distributions ``names`` that is installed, else ``None``.

    ``importlib.metadata`` knows distributions by their published name, so
    TensorFlow installed as ``tensorflow-cpu`` is not found as
    ``tensorflow``; pass every name it may have.

    Examples
    --------
    >>> distribution_version("numpy") is not None
    True
    >>> distribution_version("no-such-distribution") is None
    True
    """
    for distribution in names:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def versions():
    """Versions of Python and the libraries the figures depend on, and the Keras backend.

    A library already imported reports its ``__version__``; otherwise the
    version is looked up in the installed distributions, TensorFlow's under
    every name it is published as (``tensorflow-cpu`` included).  A library
    that is not installed has version ``None``.  Nothing is imported.

    Returns
    -------
    dict
        ``python``, ``backend``, ``keras``, ``tensorflow``, ``jax``, ``torch``
        and ``numpy``.

    Examples
    --------
    >>> sorted(versions())
    ['backend', 'jax', 'keras', 'numpy', 'python', 'tensorflow', 'torch']
    """
    import platform

    def version(module, *distributions):
        loaded = sys.modules.get(module)
        found = getattr(loaded, "__version__", None) if loaded is not None else None
        return str(found) if found else distribution_version(*distributions)

    return {
        "python": platform.python_version(),
        "backend": name(),
        "keras": version("keras", "keras", "keras-nightly"),
        "tensorflow": version("tensorflow", *TENSORFLOW_DISTRIBUTIONS),
        "jax": version("jax", "jax"),
        "torch": version("torch", "torch"),
        "numpy": version("numpy", "numpy"),
    }


def library_label(backend=None):
    """The library behind a backend as it is printed: ``"TensorFlow"``, ``"JAX"``, ``"PyTorch"``...

    Examples
    --------
    >>> library_label("jax")
    'JAX'
    """
    backend = name() if backend is None else backend
    return {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "numpy": "NumPy", "openvino": "OpenVINO"}.get(
        backend, backend
    )
