"""cnn_tutor: the companion package of the book *Convolutional Neural Networks
for Image Generation and Reconstruction*.

Every chapter starts with::

    import cnn_tutor
    rt = cnn_tutor.setup()

which quiets TensorFlow's start-up logs, seeds everything, finds GPUs and picks
the profile (``quick`` on a CPU, ``full`` on a GPU).  The submodules are
imported on first use, so ``import cnn_tutor`` itself is cheap and imports
neither Keras nor TensorFlow.  The models run on any Keras 3 backend
(``KERAS_BACKEND``: TensorFlow, the default, or JAX).

Modules, by role (each answers one question):

- :mod:`cnn_tutor.runtime`: set-up, profiles, budgets, recorded figures;
- :mod:`cnn_tutor.report`: printing figures and tables whose numbers drift
  across machines, with their tolerances;
- :mod:`cnn_tutor.data`: MNIST (bundled subset, the original IDX files, or
  the Keras loader), natural images, degradations, input pipelines for ``fit``;
- :mod:`cnn_tutor.ops`, :mod:`cnn_tutor.shapes` and :mod:`cnn_tutor.cost`:
  NumPy reference convolution and pooling, their shape arithmetic, and
  their parameter and multiply-add counts;
- :mod:`cnn_tutor.models`: how each model is built (one module per family)
  and how any model is trained (``models.training``);
- :mod:`cnn_tutor.metrics`: how good an output is (PSNR / SSIM, accuracy,
  detection, generation and compression scores);
- :mod:`cnn_tutor.baselines`: what the classical methods give;
- :mod:`cnn_tutor.coding`: an rANS entropy coder, so that a learned codec
  writes real bytes;
- :mod:`cnn_tutor.viz`: image grids, filters, diagrams and other figures;
- :mod:`cnn_tutor.timing`: wall-clock timing, fair on a shared CPU and
  correct on a GPU;
- :mod:`cnn_tutor.distribute`: ``tf.distribute`` strategies over GPUs or
  logical CPUs, and several worker processes, for data-parallel training;
- :mod:`cnn_tutor.bench`: the benchmark that executes every chapter and
  writes its recorded figures into the results files of the execution
  statistics page.
"""

import importlib
import os

# The only side effect of importing the package: keep TensorFlow's C++ logging
# quiet *before* TensorFlow is imported anywhere.  A value the user already set
# wins.  (runtime.setup() also silences the lines TensorFlow writes to file
# descriptor 2 while it loads, which this variable does not stop.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"

_SUBMODULES = (
    "runtime",
    "report",
    "data",
    "metrics",
    "baselines",
    "coding",
    "viz",
    "ops",
    "shapes",
    "cost",
    "models",
    "timing",
    "distribute",
    "bench",
)

__all__ = ["setup", "__version__", *_SUBMODULES]


def setup(*args, **kwargs):
    """Set up a chapter; see :func:`cnn_tutor.runtime.setup`."""
    from cnn_tutor import runtime

    return runtime.setup(*args, **kwargs)


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"cnn_tutor.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'cnn_tutor' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
