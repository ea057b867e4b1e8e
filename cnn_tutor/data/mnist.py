"""MNIST handwritten digits: a bundled subset, the original IDX files, or the Keras loader.

Three sources, never mixed and never switched silently (see :func:`load_mnist`):
the 5,000-digit subset shipped in the package (the quick profile), the four
IDX files of the original distribution read from a folder (the full profile
when ``CNN_TUTOR_MNIST_DIR`` names one, so no network is needed), and
``keras.datasets.mnist`` (the full profile otherwise, which downloads once).

Used by the Concepts, Keras models, Generation and Reconstruction chapters.
"""

import gzip
import hashlib
import importlib.resources
import os
import pathlib
import typing

import numpy as np

from cnn_tutor import _validation, runtime

__all__ = ["IDX_FILES", "MNIST", "MNIST_DIR_ENV", "MnistUnavailableError", "SOURCES", "load_mnist", "read_idx"]

#: The valid values of ``load_mnist(source=...)``.
SOURCES = ("bundled", "idx", "keras")

#: Environment variable naming a folder that holds the four MNIST IDX files.
MNIST_DIR_ENV = "CNN_TUTOR_MNIST_DIR"

#: The four files of the original MNIST distribution (each as ``NAME.gz`` or unpacked ``NAME``).
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# SHA-256 of each file: the .gz as distributed (the published sums), then its
# unpacked content (computed from those verified .gz files), so that either
# form is accepted, and so is a .gz made again by another gzip.
_IDX_SHA256 = {
    "train-images-idx3-ubyte": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train-labels-idx1-ubyte": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "t10k-images-idx3-ubyte": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "t10k-labels-idx1-ubyte": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}

# IDX type codes (the third byte of the magic number): big-endian element types.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_BUNDLED_FILE = "mnist_5k.npz"
_BUNDLED_SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"

_HOW_TO_PROVIDE = (
    "put the four MNIST IDX files ({files}, each .gz or unpacked) in a folder and set "
    f"{MNIST_DIR_ENV} to it (or call load_mnist(source='idx', path=FOLDER))"
)


class MnistUnavailableError(RuntimeError):
    """The real MNIST could not be loaded (no network, missing or corrupt files)."""


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


def _how_to_provide():
    return _HOW_TO_PROVIDE.format(files=", ".join(f"{name}.gz" for name in IDX_FILES))


def read_idx(file):
    """Read one IDX file (the format of the MNIST distribution) into a NumPy array.

    An IDX file is big-endian: a 4-byte magic number (two zero bytes, a type
    code, the number of dimensions), each dimension's size as a 4-byte
    integer, then the values.  A gzip-compressed file is unpacked first
    (recognised by its content, not its name).

    Parameters
    ----------
    file : str, path-like or bytes
        The file, or its content.

    Returns
    -------
    numpy.ndarray
        The values with the dimensions of the header, in native byte order
        (``uint8`` for MNIST).

    Raises
    ------
    TypeError
        If ``file`` is neither a path nor bytes.
    ValueError
        If the content is not a well-formed IDX file (bad magic number,
        unknown type, truncated or over-long data); the message names the file.

    Examples
    --------
    >>> header = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3])
    >>> read_idx(header + bytes(range(6)))
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    >>> read_idx(bytes([0, 0, 0x08, 1, 0, 0, 0, 4, 7, 7]))
    Traceback (most recent call last):
    ...
    ValueError: the IDX data is truncated: its header announces shape (4,), 4 bytes of values, but 2 bytes follow the header.
    """
    if isinstance(file, (bytes, bytearray, memoryview)):
        raw, where = bytes(file), "the IDX data"
    elif isinstance(file, (str, os.PathLike)):
        raw, where = pathlib.Path(file).read_bytes(), f"the IDX file {os.fspath(file)}"
    else:
        raise TypeError(f"`file` must be a path or bytes; received {type(file).__name__}.")
    if raw[:2] == b"\x1f\x8b":  # gzip's magic number
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{where} is a damaged gzip file ({exc}); unpack it again from the original.") from exc
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_TYPES or raw[3] == 0:
        magic = raw[:4].hex() if len(raw) >= 4 else f"{len(raw)} byte(s)"
        raise ValueError(
            f"{where} is not an IDX file: its magic number is 0x{magic}; expected two zero bytes, a type code "
            "(0x08 for unsigned bytes) and the number of dimensions, for example 0x00000803 (MNIST images) "
            "or 0x00000801 (labels)."
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{where} is truncated: its magic number announces {ndim} dimension(s), {header} header bytes, "
            f"but the file has {len(raw)} bytes."
        )
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    received = len(raw) - header
    if received != expected:
        problem = "truncated" if received < expected else "longer than its header says"
        raise ValueError(
            f"{where} is {problem}: its header announces shape {shape}, {expected:,} bytes of values, but "
            f"{received:,} bytes follow the header."
        )
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _find_idx_file(folder, name):
    """The unpacked file if present, else the .gz; None if neither exists."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _check_sha256(path, name):
    """Raise MnistUnavailableError unless ``path`` is the original file ``name`` (.gz or unpacked)."""
    gz_sum, raw_sum = _IDX_SHA256[name]
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    if digest in (gz_sum, raw_sum):
        return
    if content[:2] == b"\x1f\x8b":  # a .gz made again by another gzip: check what it holds
        try:
            unpacked = hashlib.sha256(gzip.decompress(content)).hexdigest()
        except (OSError, EOFError):
            unpacked = None
        if unpacked == raw_sum:
            return
        expected = f"{gz_sum} (the published .gz) or, unpacked, {raw_sum}"
    else:
        expected = raw_sum
    raise MnistUnavailableError(
        f"{path} is not the original MNIST file {name}: its SHA-256 is {digest}, expected {expected}. "
        "The file is damaged or comes from another data set; replace it with the original "
        "(the MNIST distribution of LeCun, Cortes and Burges)."
    )


def _mnist_array(path, name, *, images):
    try:
        values = read_idx(path)
    except ValueError as exc:
        raise MnistUnavailableError(str(exc)) from exc
    if images:
        ok = values.ndim == 3 and values.shape[1:] == (28, 28) and values.dtype == np.uint8
        expected = "(n, 28, 28) unsigned bytes"
    else:
        ok = values.ndim == 1 and values.dtype == np.uint8 and (values.size == 0 or values.max() <= 9)
        expected = "(n,) unsigned bytes 0-9"
    if not ok:
        raise MnistUnavailableError(
            f"{path} does not hold MNIST {'images' if images else 'labels'}: received {values.dtype} of shape "
            f"{values.shape}, expected {expected}. Is it the right file for {name}?"
        )
    return values


def _resolve_idx_folder(path):
    """The folder of IDX files and a phrase saying where it came from."""
    if path is None:
        value = os.environ.get(MNIST_DIR_ENV, "").strip()
        if not value:
            raise ValueError(
                f"`source='idx'` needs the folder of the MNIST IDX files: pass `path=FOLDER` or set the "
                f"environment variable {MNIST_DIR_ENV}; received neither."
            )
        return pathlib.Path(value).expanduser(), f"the folder named by {MNIST_DIR_ENV}"
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a folder (str or path-like); received {type(path).__name__}.")
    return pathlib.Path(path).expanduser(), "the folder given as `path`"


def _load_idx(path):
    folder, origin = _resolve_idx_folder(path)
    if not folder.is_dir():
        raise MnistUnavailableError(
            f"{origin} ({folder}) is not a folder. To proceed, {_how_to_provide()}."
        )
    found = {name: _find_idx_file(folder, name) for name in IDX_FILES}
    missing = [name for name, file in found.items() if file is None]
    if missing:
        raise MnistUnavailableError(
            f"{origin} ({folder}) lacks {', '.join(missing)} (as .gz or unpacked). To proceed, {_how_to_provide()}."
        )
    for name, file in found.items():
        _check_sha256(file, name)
    arrays = {name: _mnist_array(file, name, images="images" in name) for name, file in found.items()}
    splits = []
    for prefix in ("train", "t10k"):
        images, labels = arrays[f"{prefix}-images-idx3-ubyte"], arrays[f"{prefix}-labels-idx1-ubyte"]
        if len(images) != len(labels):
            raise MnistUnavailableError(
                f"{folder}: {prefix}-images holds {len(images):,} images but {prefix}-labels holds "
                f"{len(labels):,} labels; they must match."
            )
        splits.append((images, labels))
    return tuple(splits), folder


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
            "(11 MB) once into ~/.keras/datasets/ and checks its SHA-256. To proceed without the "
            f"internet, {_how_to_provide()}; or copy mnist.npz into ~/.keras/datasets/ by hand; or use "
            "the bundled 5,000-digit subset with CNN_TUTOR_PROFILE=quick or load_mnist(source='bundled'). "
            "Or connect to the internet once and run again."
        ) from exc


def load_mnist(source=None, *, path=None, profile=None, test_per_class=100, seed=0, verbose=True):
    """Load MNIST as float32 ``(n, 28, 28, 1)`` images in [0, 1] with integer labels.

    Three sources, never mixed and never switched silently:

    ``"bundled"``
        5,000 real MNIST digits (500 per class) shipped inside the package, so
        no network is needed; split by class into 4,000 training and 1,000
        test digits (``test_per_class`` per class).  Provenance and licence:
        ``cnn_tutor/_data/PROVENANCE.md``.
    ``"idx"``
        The real MNIST, 60,000 training and 10,000 test digits, from the four
        IDX files of the original distribution in a folder (``path``, or the
        environment variable ``CNN_TUTOR_MNIST_DIR``): ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte``, each gzip-compressed (``.gz``, as
        distributed) or unpacked.  Each file is checked against the SHA-256 of
        the original before it is read.
    ``"keras"``
        The real MNIST through ``keras.datasets.mnist.load_data()``
        (downloaded once, hash-checked, cached in ``~/.keras/datasets``).

    Parameters
    ----------
    source : {"bundled", "idx", "keras"} or None
        ``None`` picks by profile: ``quick`` uses the bundled subset; ``full``
        the IDX files when ``CNN_TUTOR_MNIST_DIR`` is set, else the Keras
        loader.  A ``path`` implies ``"idx"``.
    path : str or path-like, optional
        The folder of the IDX files (only with ``source="idx"`` or ``None``);
        by default ``CNN_TUTOR_MNIST_DIR``.
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
        If ``source`` or ``profile`` is unknown, ``test_per_class`` is out of
        range, ``path`` comes with another source, or ``source="idx"`` has no folder.
    MnistUnavailableError
        If the real MNIST cannot be loaded: a missing, damaged or foreign IDX
        file, or no network for the Keras loader; the message says how to proceed.

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
    ValueError: `source` must be one of 'bundled', 'idx', 'keras', None; received 'internet'.
    """
    _validation.check_choice("source", source, (*SOURCES, None))
    if profile is not None:
        _validation.check_choice("profile", profile, runtime.PROFILES)
    test_per_class = _validation.check_int("test_per_class", test_per_class, minimum=1)
    if test_per_class > 499:
        raise ValueError(f"`test_per_class` must be <= 499 (500 digits per class); received {test_per_class}.")
    seed = _validation.check_int("seed", seed, minimum=0)
    if path is not None and source not in ("idx", None):
        raise ValueError(
            f"`path` is the folder of the IDX files, so it goes with `source='idx'` (or None); "
            f"received source={source!r}. Drop `path` or use source='idx'."
        )
    if source is None:
        if path is not None:
            source = "idx"
        elif (profile or runtime.current_profile()) == "quick":
            source = "bundled"
        else:
            source = "idx" if os.environ.get(MNIST_DIR_ENV, "").strip() else "keras"

    if source == "bundled":
        (x_train, y_train), (x_test, y_test) = _load_bundled(test_per_class, seed)
        description = "bundled subset of real MNIST digits"
    elif source == "idx":
        ((x_train, y_train), (x_test, y_test)), folder = _load_idx(path)
        description = f"real MNIST from the IDX files in {folder}"
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
