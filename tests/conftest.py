"""Shared fixtures: small seeded images, a toy MNIST split, and a quiet TensorFlow for the modules that ask for it."""

import os

import numpy as np
import pytest

# Keep TensorFlow's C++ logging quiet before any test imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The tests run the quick profile everywhere: on a GPU machine the default would be `full`,
# which needs the real MNIST (tests that check the default rule remove this themselves).
os.environ["CNN_TUTOR_PROFILE"] = "quick"

import matplotlib  # noqa: E402

matplotlib.use("Agg")


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed."""
    return np.random.default_rng(1234)


@pytest.fixture
def images(rng):
    """A batch of 3 random 16x16 grayscale images in [0, 1]."""
    return rng.random((3, 16, 16, 1), dtype=np.float32)


@pytest.fixture
def no_profile_env(monkeypatch):
    """Remove CNN_TUTOR_PROFILE so the default rule applies."""
    monkeypatch.delenv("CNN_TUTOR_PROFILE", raising=False)


@pytest.fixture(scope="module")
def quiet_runtime():
    """Quiet TensorFlow, seed, op determinism for a test module; the module-level runtime is restored afterwards.

    A module asks for it with ``pytestmark = pytest.mark.usefixtures("quiet_runtime")``.
    """
    import cnn_tutor
    from cnn_tutor import runtime

    saved = runtime._current
    cnn_tutor.setup(profile="quick", verbose=False)
    yield
    runtime._current = saved


@pytest.fixture
def tiny_mnist():
    """A toy MNIST split of random images: 32 training and 8 test images, labels cycling 0-9."""
    from cnn_tutor.data import MNIST

    rng = np.random.default_rng(0)
    return MNIST(
        x_train=rng.random((32, 28, 28, 1), dtype=np.float32),
        y_train=np.arange(32) % 10,
        x_test=rng.random((8, 28, 28, 1), dtype=np.float32),
        y_test=np.arange(8) % 10,
        source="toy",
        description="toy",
    )


@pytest.fixture
def tensorflow_backend():
    """Skip the test unless Keras runs on TensorFlow: it is about TensorFlow itself (tf.data, tf.distribute...)."""
    from cnn_tutor import _backend

    if not _backend.use_tensorflow():
        pytest.skip(f"a TensorFlow lesson; this run uses the {_backend.name()!r} backend of Keras")


@pytest.fixture
def backend():
    """The Keras backend of this test run ("tensorflow", "jax"...)."""
    from cnn_tutor import _backend

    return _backend.name()


# Doctests of TensorFlow lessons (tf.distribute, tf.function and XLA, the TensorFlow profiler) run on
# the TensorFlow backend only; under another backend they are skipped, saying why.
_TENSORFLOW_DOCTESTS = ("cnn_tutor.distribute.", "cnn_tutor.models.compiled_step.", "cnn_tutor.cost.profile_flops")


# Test modules whose code never runs through Keras or a backend branch (PSNR and SSIM take
# tf.image on TensorFlow and NumPy elsewhere, interpolation goes through keras.ops, so the modules
# that use them stay): the entropy coder, Pillow and scikit-image data, matplotlib figures, the
# chapters' text and the nbval plugin. A pass on another Keras backend would repeat them operation
# for operation, so it skips them, saying why.
_BACKEND_INDEPENDENT = {
    "test_chapter_text", "test_coding", "test_data_detection", "test_data_patches", "test_data_photos",
    "test_nbval_figures", "test_references", "test_report", "test_viz_arithmetic", "test_viz_generation",
    "test_viz_images", "test_viz_listing", "test_viz_restoration",
}


def pytest_collection_modifyitems(config, items):
    from cnn_tutor import _backend

    if _backend.use_tensorflow():
        return
    skip = pytest.mark.skip(reason=f"a TensorFlow lesson; this run uses the {_backend.name()!r} backend of Keras")
    same = pytest.mark.skip(
        reason="no Keras or backend branch in this module's code: the TensorFlow pass ran it, and it computes the same here"
    )
    for item in items:
        if item.name.startswith(_TENSORFLOW_DOCTESTS):
            item.add_marker(skip)
        elif item.path.stem in _BACKEND_INDEPENDENT:
            item.add_marker(same)
