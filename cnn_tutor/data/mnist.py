"""MNIST handwritten digits: a bundled subset that needs no network, or the real loader.

Used by the Concepts, Keras models, Generation and Reconstruction chapters.
"""

import hashlib
import importlib.resources
import typing

import numpy as np

from cnn_tutor import _validation, runtime

__all__ = ["MNIST", "MnistUnavailableError", "SOURCES", "load_mnist"]

#: The valid values of ``load_mnist(source=...)``.
SOURCES = ("bundled", "keras")

_BUNDLED_FILE = "mnist_5k.npz"
_BUNDLED_SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"


class MnistUnavailableError(RuntimeError):
    """The real MNIST could not be loaded (no network, or a corrupt download)."""


class MNIST(typing.NamedTuple):
    """Train and test splits of MNIST in the book's image convention.

    Images are float32 ``(n, 28, 28, 1)`` in [0, 1]; labels are int64 in 0-9.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    description: str


def _to_images(pixels):
    return (pixels.astype(np.float32) / 255.0)[..., None]


def _load_bundled(test_per_class, seed):
    resource = importlib.resources.files("cnn_tutor") / "_data" / _BUNDLED_FILE
    raw = resource.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != _BUNDLED_SHA256:
        raise MnistUnavailableError(
            f"The bundled MNIST file {_BUNDLED_FILE} is corrupt: its SHA-256 is {digest}, "
            f"expected {_BUNDLED_SHA256}. Reinstall the package (pip install -e .)."
        )
    with resource.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"].astype(np.int64)
    # A stratified split with a fixed seed: the same 1,000 test digits
    # (100 of each class) every time, unless another seed is asked for.
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test_idx.append(members[:test_per_class])
        train_idx.append(members[test_per_class:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    return (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx])


def _load_keras():
    import keras

    try:
        with runtime.quiet_stderr():
            return keras.datasets.mnist.load_data()
    except Exception as exc:  # URL fetch failure, hash mismatch, disk errors...
        raise MnistUnavailableError(
            "The real MNIST (70,000 digits, used by the 'full' profile) could not be loaded: "
            f"{type(exc).__name__}: {exc}. keras.datasets.mnist.load_data() downloads mnist.npz "
            "(11 MB) once into ~/.keras/datasets/ and checks its SHA-256. To proceed: connect to the "
            "internet once and run again; or copy mnist.npz into ~/.keras/datasets/ by hand; or use "
            "the bundled 5,000-digit subset with CNN_TUTOR_PROFILE=quick or load_mnist(source='bundled')."
        ) from exc


def load_mnist(source=None, *, profile=None, test_per_class=100, seed=0, verbose=True):
    """Load MNIST as float32 ``(n, 28, 28, 1)`` images in [0, 1] with integer labels.

    Two sources, never mixed and never switched silently:

    ``"bundled"``
        5,000 real MNIST digits (500 per class) shipped inside the package, so
        no network is needed; split by class into 4,000 training and 1,000
        test digits (``test_per_class`` per class).  Provenance and licence:
        ``cnn_tutor/_data/PROVENANCE.md``.
    ``"keras"``
        The real MNIST, 60,000 training and 10,000 test digits, through
        ``keras.datasets.mnist.load_data()`` (downloaded once, hash-checked,
        cached in ``~/.keras/datasets``).

    Parameters
    ----------
    source : {"bundled", "keras"} or None
        ``None`` picks by profile: ``quick`` uses the bundled subset, ``full``
        the real loader.
    profile : {"quick", "full"} or None
        ``None`` means the profile of the last :func:`cnn_tutor.setup`.
    test_per_class : int
        Test digits per class for the bundled subset (1-499).
    seed : int
        Seed of the bundled subset's split.
    verbose : bool
        Print which source was used and how many images.

    Returns
    -------
    MNIST
        A named tuple ``(x_train, y_train, x_test, y_test, source, description)``.

    Raises
    ------
    ValueError
        If ``source`` or ``profile`` is unknown, or ``test_per_class`` is out of range.
    MnistUnavailableError
        If the real MNIST cannot be downloaded; the message says how to proceed.

    Examples
    --------
    >>> mnist = load_mnist("bundled")
    MNIST: bundled subset of real MNIST digits, 4,000 train / 1,000 test images
    >>> mnist.x_train.shape, mnist.x_train.dtype, float(mnist.x_train.max())
    ((4000, 28, 28, 1), dtype('float32'), 1.0)
    >>> sorted(set(mnist.y_test.tolist())) == list(range(10))
    True
    >>> load_mnist("internet")
    Traceback (most recent call last):
    ...
    ValueError: `source` must be one of 'bundled', 'keras', None; received 'internet'.
    """
    _validation.check_choice("source", source, (*SOURCES, None))
    if profile is not None:
        _validation.check_choice("profile", profile, runtime.PROFILES)
    test_per_class = _validation.check_int("test_per_class", test_per_class, minimum=1)
    if test_per_class > 499:
        raise ValueError(f"`test_per_class` must be <= 499 (500 digits per class); received {test_per_class}.")
    seed = _validation.check_int("seed", seed, minimum=0)
    if source is None:
        profile = profile or runtime.current_profile()
        source = "bundled" if profile == "quick" else "keras"

    if source == "bundled":
        (x_train, y_train), (x_test, y_test) = _load_bundled(test_per_class, seed)
        description = "bundled subset of real MNIST digits"
    else:
        (x_train, y_train), (x_test, y_test) = _load_keras()
        description = "real MNIST from keras.datasets"
    mnist = MNIST(
        x_train=_to_images(x_train),
        y_train=y_train.astype(np.int64),
        x_test=_to_images(x_test),
        y_test=y_test.astype(np.int64),
        source=source,
        description=description,
    )
    if verbose:
        print(f"MNIST: {description}, {len(mnist.x_train):,} train / {len(mnist.x_test):,} test images")
    return mnist
