"""cnn_tutor: the companion package of the book *Convolutional Neural Networks
for Image Generation and Reconstruction*.

Every chapter starts with::

    import cnn_tutor
    rt = cnn_tutor.setup()

which quiets TensorFlow's start-up logs, seeds everything, finds GPUs and picks
the profile (``quick`` on a CPU, ``full`` on a GPU).  The submodules are
imported on first use, so ``import cnn_tutor`` itself is cheap and does not
import TensorFlow.

Modules (one concern each):

- :mod:`cnn_tutor.runtime`: set-up, profiles, budgets, recorded figures;
- :mod:`cnn_tutor.report`: printing figures and tables whose numbers drift
  across machines, with their tolerances;
- :mod:`cnn_tutor.data`: MNIST (bundled subset, the original IDX files, or
  the Keras loader), natural images, degradations, ``tf.data`` pipelines;
- :mod:`cnn_tutor.metrics`: PSNR / SSIM and other image-quality figures;
- :mod:`cnn_tutor.viz`: image grids and other figures;
- :mod:`cnn_tutor.ops` and :mod:`cnn_tutor.shapes`: NumPy reference
  convolution and pooling, and their shape arithmetic;
- :mod:`cnn_tutor.models`: Keras model builders, one module per family;
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

_SUBMODULES = ("runtime", "report", "data", "metrics", "viz", "ops", "shapes", "models", "distribute", "bench")

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
