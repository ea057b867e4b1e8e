"""Tests of cnn_tutor.data: MNIST sources (bundled, IDX files, Keras), natural images, degradations."""

import gzip
import hashlib
import os
import pathlib
import socket

import numpy as np
import pytest

from cnn_tutor import data, runtime
from cnn_tutor.data import mnist as mnist_module


# --- MNIST ------------------------------------------------------------------

# Where the real IDX files are, if anywhere: the variable as the tests found it, else the
# project's shared folder beside the checkout. Only test_real_idx_files reads them.
_REAL_MNIST_CANDIDATES = [
    pathlib.Path(folder)
    for folder in (os.environ.get("CNN_TUTOR_MNIST_DIR", "").strip(), pathlib.Path(__file__).resolve().parents[2] / "shared" / "mnist")
    if str(folder)
]


@pytest.fixture(autouse=True)
def _no_mnist_dir(monkeypatch):
    """The tests choose the MNIST source themselves: a CNN_TUTOR_MNIST_DIR of the user's does not leak in."""
    monkeypatch.delenv("CNN_TUTOR_MNIST_DIR", raising=False)


@pytest.fixture(scope="module")
def bundled():
    return data.load_mnist("bundled", verbose=False)


def test_bundled_mnist_shapes_types_and_range(bundled):
    assert bundled.source == "bundled"
    assert bundled.x_train.shape == (4000, 28, 28, 1) and bundled.x_test.shape == (1000, 28, 28, 1)
    assert bundled.x_train.dtype == np.float32 and bundled.y_train.dtype == np.int64
    for images in (bundled.x_train, bundled.x_test):
        assert images.min() == 0.0 and images.max() == 1.0
    assert np.array_equal(np.bincount(bundled.y_train), [400] * 10)
    assert np.array_equal(np.bincount(bundled.y_test), [100] * 10)


def test_bundled_split_is_fixed_and_disjoint(bundled):
    again = data.load_mnist("bundled", verbose=False)
    np.testing.assert_array_equal(bundled.x_test, again.x_test)
    np.testing.assert_array_equal(bundled.y_train, again.y_train)
    train = {image.tobytes() for image in bundled.x_train}
    assert not any(image.tobytes() in train for image in bundled.x_test)
    other = data.load_mnist("bundled", seed=1, verbose=False)
    assert not np.array_equal(other.y_test, bundled.y_test)


def test_the_validation_split_is_balanced_disjoint_seeded_and_leaves_the_test_digits(bundled):
    split = data.split_validation(bundled, 500, seed=0)
    assert split.x_val.shape == (500, 28, 28, 1) and split.train.x_train.shape == (3500, 28, 28, 1)
    assert np.array_equal(np.bincount(split.y_val), [50] * 10)
    assert np.array_equal(np.bincount(split.train.y_train), [350] * 10)
    held_out = {image.tobytes() for image in split.x_val}
    assert not any(image.tobytes() in held_out for image in split.train.x_train)
    # together they are the training digits, each once, with its own label
    together = np.concatenate([split.train.x_train, split.x_val]).reshape(4000, -1)
    labels = np.concatenate([split.train.y_train, split.y_val])
    order, original = np.lexsort(together.T), np.lexsort(bundled.x_train.reshape(4000, -1).T)
    np.testing.assert_array_equal(together[order], bundled.x_train.reshape(4000, -1)[original])
    np.testing.assert_array_equal(labels[order], bundled.y_train[original])
    assert split.train.x_test is bundled.x_test and split.train.y_test is bundled.y_test
    assert "500 training digits held out" in split.train.description
    np.testing.assert_array_equal(data.split_validation(bundled, 500, seed=0).y_val, split.y_val)
    assert not np.array_equal(data.split_validation(bundled, 500, seed=1).x_val, split.x_val)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((None, 10), TypeError, r"`mnist` must be an MNIST split from load_mnist\(\); received NoneType"),
        (("bundled", 0), ValueError, "`num_validation` must be >= 1; received 0"),
        (("bundled", 55), ValueError, r"multiple of the number of classes \(10\).*received 55"),
        (("bundled", 4000), ValueError, "asks for 400 digits of class 0, which has only 400"),
    ],
)
def test_split_validation_errors(bundled, args, error, message):
    mnist = bundled if args[0] == "bundled" else args[0]
    with pytest.raises(error, match=message):
        data.split_validation(mnist, args[1])


def test_load_mnist_reports_its_source(capsys):
    data.load_mnist("bundled", test_per_class=50)
    assert capsys.readouterr().out == "MNIST: bundled subset of real MNIST digits, 4,500 train / 500 test images\n"


@pytest.mark.parametrize(("profile", "expected"), [("quick", "bundled"), ("full", "keras")])
def test_profile_picks_the_source(profile, expected, monkeypatch):
    fake = np.zeros((6, 28, 28), dtype=np.uint8), np.arange(6) % 10
    monkeypatch.setattr(mnist_module, "_load_keras", lambda: (fake, fake))
    assert data.load_mnist(profile=profile, verbose=False).source == expected


def test_default_profile_is_the_runtime_profile(monkeypatch, no_profile_env):
    monkeypatch.setattr(runtime, "_current", None)
    assert data.load_mnist(verbose=False).source == "bundled"
    monkeypatch.setenv("CNN_TUTOR_PROFILE", "full")

    def real_loader_called():
        raise LookupError("the real loader was asked")

    monkeypatch.setattr(mnist_module, "_load_keras", real_loader_called)
    with pytest.raises(LookupError, match="real loader"):
        data.load_mnist(verbose=False)


def test_full_without_network_says_why_and_how_to_proceed(monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(data.MnistUnavailableError) as info:
        data.load_mnist(profile="full")
    message = str(info.value)
    assert "URL fetch failure" in message
    assert "~/.keras/datasets" in message
    assert "CNN_TUTOR_PROFILE=quick" in message and "source='bundled'" in message
    # ... and how to give it the IDX files instead: the variable and the four file names.
    assert "CNN_TUTOR_MNIST_DIR" in message
    for name in data.IDX_FILES:
        assert f"{name}.gz" in message


def _network_reachable():
    try:
        socket.create_connection(("storage.googleapis.com", 443), timeout=3).close()
        return True
    except OSError:
        return False


def test_real_loader_fails_cleanly_when_offline(tmp_path, monkeypatch):
    """The real keras loader, no stub: offline (as under `make test`), it must raise our error."""
    if _network_reachable():
        pytest.skip("the network is reachable here; the offline path is covered by the stubbed test")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / ".keras"))
    with pytest.raises(data.MnistUnavailableError, match="could not be loaded"):
        data.load_mnist("keras", verbose=False)


def test_corrupt_bundled_file_is_detected(monkeypatch):
    monkeypatch.setattr(mnist_module, "_BUNDLED_SHA256", "0" * 64)
    with pytest.raises(data.MnistUnavailableError, match="corrupt"):
        data.load_mnist("bundled", verbose=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"source": "internet"}, ValueError, "`source` must be one of 'bundled', 'idx', 'keras', None; received 'internet'"),
        ({"profile": "fast"}, ValueError, "`profile` must be one of 'quick', 'full'; received 'fast'"),
        ({"test_per_class": 0}, ValueError, "`test_per_class` must be >= 1"),
        ({"test_per_class": 500}, ValueError, "`test_per_class` must be <= 499"),
        ({"seed": -3}, ValueError, "`seed` must be >= 0"),
        ({"test_per_class": 1.5}, TypeError, "`test_per_class` must be an integer"),
    ],
)
def test_load_mnist_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.load_mnist(**{"source": "bundled", **kwargs})


# --- MNIST from IDX files -----------------------------------------------------

_TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def _idx_bytes(array, *, type_code=None):
    """An IDX file written by hand from the format's definition: magic, big-endian sizes, big-endian values."""
    array = np.asarray(array)
    code = _TYPE_CODES[array.dtype.type] if type_code is None else type_code
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _tiny_mnist_arrays(rng):
    """Pixels and labels of a 12 + 5 digit toy MNIST (random pixels, labels cycling 0-9)."""
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(12) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.array([9, 0, 3, 3, 7], dtype=np.uint8),
    }


def _write_idx_folder(folder, arrays, *, compress, monkeypatch=None):
    """Write the four files (.gz or unpacked); with ``monkeypatch``, declare their hashes the expected ones."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for name, array in arrays.items():
        raw = _idx_bytes(array)
        packed = gzip.compress(raw, mtime=0)
        (folder / (f"{name}.gz" if compress else name)).write_bytes(packed if compress else raw)
        sums[name] = (hashlib.sha256(packed).hexdigest(), hashlib.sha256(raw).hexdigest())
    if monkeypatch is not None:
        monkeypatch.setattr(mnist_module, "_IDX_SHA256", sums)
    return sums


@pytest.mark.parametrize(
    ("array", "expected_header"),
    [
        (np.arange(6, dtype=np.uint8).reshape(2, 3), "0000080200000002" "00000003"),
        (np.array([-2, 300, 7], dtype=np.int16), "00000b0100000003"),
        (np.array([[0.5], [-1.25]], dtype=np.float32), "00000d0200000002" "00000001"),
        (np.array([1e300], dtype=np.float64), "00000e0100000001"),
    ],
)
def test_read_idx_parses_types_shapes_and_byte_order(array, expected_header):
    raw = _idx_bytes(array)
    assert raw[: len(expected_header) // 2].hex() == expected_header
    parsed = data.read_idx(raw)
    assert parsed.dtype == array.dtype and parsed.dtype.isnative and parsed.shape == array.shape
    np.testing.assert_array_equal(parsed, array)


def test_read_idx_by_hand_bytes_and_gzip(tmp_path):
    # Two 2x2 images, written out byte by byte: magic 0x00000803, sizes 2, 2, 2, then 8 values.
    raw = bytes.fromhex("00000803" "00000002" "00000002" "00000002") + bytes([0, 255, 1, 2, 3, 4, 5, 128])
    expected = np.array([[[0, 255], [1, 2]], [[3, 4], [5, 128]]], dtype=np.uint8)
    np.testing.assert_array_equal(data.read_idx(raw), expected)
    (tmp_path / "images.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "images").write_bytes(raw)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "images.gz"), expected)
    np.testing.assert_array_equal(data.read_idx(str(tmp_path / "images")), expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x00\x00\x08", r"is not an IDX file: its magic number is 0x3 byte\(s\)"),
        (bytes.fromhex("01000801") + bytes(5), r"not an IDX file: its magic number is 0x01000801"),
        (bytes.fromhex("00000a01") + bytes(5), r"not an IDX file: its magic number is 0x00000a01"),
        (bytes.fromhex("00000800"), r"not an IDX file: its magic number is 0x00000800"),
        (bytes.fromhex("00000803" "00000002"), r"truncated: its magic number announces 3 dimension\(s\), 16 header bytes, but the file has 8"),
        (bytes.fromhex("00000801" "00000004") + bytes(3), r"truncated: its header announces shape \(4,\), 4 bytes of values, but 3 bytes"),
        (bytes.fromhex("00000b01" "00000002") + bytes(3), r"truncated: its header announces shape \(2,\), 4 bytes of values, but 3 bytes"),
        (bytes.fromhex("00000801" "00000002") + bytes(3), r"longer than its header says: .* 2 bytes of values, but 3 bytes"),
        (b"\x1f\x8b" + bytes(10), r"is a damaged gzip file"),
    ],
)
def test_read_idx_errors(raw, message):
    with pytest.raises(ValueError, match=message):
        data.read_idx(raw)


def test_read_idx_error_names_the_file_and_type(tmp_path):
    bad = tmp_path / "train-labels-idx1-ubyte"
    bad.write_bytes(bytes.fromhex("00000801" "0000000a") + bytes(9))
    with pytest.raises(ValueError, match=f"the IDX file {bad} is truncated"):
        data.read_idx(bad)
    with pytest.raises(TypeError, match="`file` must be a path or bytes; received int"):
        data.read_idx(3)


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "unpacked"])
def test_load_mnist_from_idx_files(tmp_path, monkeypatch, compress, capsys):
    arrays = _tiny_mnist_arrays(np.random.default_rng(0))
    _write_idx_folder(tmp_path, arrays, compress=compress, monkeypatch=monkeypatch)
    mnist = data.load_mnist("idx", path=tmp_path)
    assert capsys.readouterr().out == f"MNIST: real MNIST from the IDX files in {tmp_path}, 12 train / 5 test images\n"
    assert mnist.source == "idx" and mnist.x_train.shape == (12, 28, 28, 1) and mnist.x_test.shape == (5, 28, 28, 1)
    assert mnist.x_train.dtype == np.float32 and mnist.y_test.dtype == np.int64
    np.testing.assert_array_equal(mnist.x_train[..., 0] * 255, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(mnist.x_test[3, 5, 7, 0], arrays["t10k-images-idx3-ubyte"][3, 5, 7] / np.float32(255))
    assert mnist.y_train.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1] and mnist.y_test.tolist() == [9, 0, 3, 3, 7]


def test_the_folder_can_come_from_the_environment_and_the_full_profile_uses_it(tmp_path, monkeypatch):
    _write_idx_folder(tmp_path, _tiny_mnist_arrays(np.random.default_rng(1)), compress=True, monkeypatch=monkeypatch)

    def real_loader_called():
        raise LookupError("the Keras loader was asked")

    monkeypatch.setattr(mnist_module, "_load_keras", real_loader_called)
    with pytest.raises(ValueError, match="`source='idx'` needs the folder .* pass `path=FOLDER` or set the environment variable CNN_TUTOR_MNIST_DIR"):
        data.load_mnist("idx", verbose=False)
    with pytest.raises(LookupError):  # full profile, no variable: the Keras loader
        data.load_mnist(profile="full", verbose=False)
    monkeypatch.setenv("CNN_TUTOR_MNIST_DIR", str(tmp_path))
    assert data.load_mnist("idx", verbose=False).y_test.tolist() == [9, 0, 3, 3, 7]
    assert data.load_mnist(profile="full", verbose=False).source == "idx"
    assert data.load_mnist(profile="quick", verbose=False).source == "bundled"  # quick never reads the files
    assert data.load_mnist(path=tmp_path, profile="quick", verbose=False).source == "idx"  # a path means idx


def test_a_recompressed_gz_is_accepted_by_its_content(tmp_path, monkeypatch):
    arrays = _tiny_mnist_arrays(np.random.default_rng(2))
    _write_idx_folder(tmp_path, arrays, compress=True, monkeypatch=monkeypatch)
    name = "t10k-labels-idx1-ubyte"
    regzipped = gzip.compress(_idx_bytes(arrays[name]), compresslevel=1, mtime=12345)
    assert hashlib.sha256(regzipped).hexdigest() != mnist_module._IDX_SHA256[name][0]
    (tmp_path / f"{name}.gz").write_bytes(regzipped)
    assert data.load_mnist("idx", path=tmp_path, verbose=False).y_test.tolist() == [9, 0, 3, 3, 7]


def test_published_hashes_refuse_other_files(tmp_path):
    """With the real MNIST sums, a folder of other files (of the right format) is refused, naming both sums."""
    _write_idx_folder(tmp_path, _tiny_mnist_arrays(np.random.default_rng(3)), compress=True)
    with pytest.raises(data.MnistUnavailableError) as info:
        data.load_mnist("idx", path=tmp_path, verbose=False)
    message = str(info.value)
    assert "is not the original MNIST file train-images-idx3-ubyte: its SHA-256 is" in message
    assert "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609 (the published .gz)" in message


def test_a_changed_byte_is_a_hash_mismatch(tmp_path, monkeypatch):
    arrays = _tiny_mnist_arrays(np.random.default_rng(4))
    sums = _write_idx_folder(tmp_path, arrays, compress=False, monkeypatch=monkeypatch)
    damaged = tmp_path / "train-labels-idx1-ubyte"
    content = bytearray(damaged.read_bytes())
    content[-1] ^= 1
    damaged.write_bytes(bytes(content))
    with pytest.raises(data.MnistUnavailableError, match=f"{damaged} is not the original MNIST file .* expected {sums['train-labels-idx1-ubyte'][1]}"):
        data.load_mnist("idx", path=tmp_path, verbose=False)


def test_missing_files_are_listed_with_how_to_provide_them(tmp_path, monkeypatch):
    arrays = _tiny_mnist_arrays(np.random.default_rng(5))
    _write_idx_folder(tmp_path, arrays, compress=True, monkeypatch=monkeypatch)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("CNN_TUTOR_MNIST_DIR", str(tmp_path))
    with pytest.raises(data.MnistUnavailableError) as info:
        data.load_mnist(profile="full", verbose=False)
    message = str(info.value)
    assert f"the folder named by CNN_TUTOR_MNIST_DIR ({tmp_path}) lacks train-labels-idx1-ubyte, t10k-images-idx3-ubyte" in message
    assert "set CNN_TUTOR_MNIST_DIR to it" in message and "t10k-labels-idx1-ubyte.gz" in message
    with pytest.raises(data.MnistUnavailableError, match=r"the folder given as `path` \(.*nowhere\) is not a folder"):
        data.load_mnist("idx", path=tmp_path / "nowhere", verbose=False)


@pytest.mark.parametrize(
    ("name", "array", "message"),
    [
        ("train-images-idx3-ubyte", np.zeros((12, 28, 27), np.uint8), r"does not hold MNIST images: received uint8 of shape \(12, 28, 27\), expected \(n, 28, 28\)"),
        ("train-images-idx3-ubyte", np.zeros((12, 784), np.uint8), r"does not hold MNIST images: received uint8 of shape \(12, 784\)"),
        ("t10k-images-idx3-ubyte", np.zeros((5, 28, 28), np.float32), r"does not hold MNIST images: received float32"),
        ("t10k-labels-idx1-ubyte", np.array([1, 2, 10, 3, 4], np.uint8), r"does not hold MNIST labels: .* expected \(n,\) unsigned bytes 0-9"),
        ("t10k-labels-idx1-ubyte", np.arange(4, dtype=np.uint8), r"t10k-images holds 5 images but t10k-labels holds 4 labels"),
    ],
)
def test_idx_files_of_the_wrong_kind_are_refused(tmp_path, monkeypatch, name, array, message):
    arrays = {**_tiny_mnist_arrays(np.random.default_rng(6)), name: array}
    _write_idx_folder(tmp_path, arrays, compress=True, monkeypatch=monkeypatch)
    with pytest.raises(data.MnistUnavailableError, match=message):
        data.load_mnist("idx", path=tmp_path, verbose=False)


def test_a_truncated_file_with_a_matching_hash_is_still_refused(tmp_path, monkeypatch):
    arrays = _tiny_mnist_arrays(np.random.default_rng(7))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(arrays.pop("t10k-images-idx3-ubyte"))[:-10])
    sums = _write_idx_folder(tmp_path, arrays, compress=True)
    sums["t10k-images-idx3-ubyte"] = ("0" * 64, hashlib.sha256((tmp_path / "t10k-images-idx3-ubyte").read_bytes()).hexdigest())
    monkeypatch.setattr(mnist_module, "_IDX_SHA256", sums)
    with pytest.raises(data.MnistUnavailableError, match=r"t10k-images-idx3-ubyte is truncated: .* 3,920 bytes of values, but 3,910"):
        data.load_mnist("idx", path=tmp_path, verbose=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"source": "bundled", "path": "."}, ValueError, r"`path` is the folder of the IDX files, so it goes with `source='idx'` .* received source='bundled'"),
        ({"source": "keras", "path": "."}, ValueError, r"received source='keras'"),
        ({"source": "idx", "path": 3}, TypeError, r"`path` must be a folder \(str or path-like\); received int"),
    ],
)
def test_idx_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.load_mnist(verbose=False, **kwargs)


def _real_mnist_folder():
    for folder in _REAL_MNIST_CANDIDATES:
        if all((folder / f"{name}.gz").is_file() or (folder / name).is_file() for name in data.IDX_FILES):
            return folder
    return None


def test_real_idx_files():
    """The real MNIST through the IDX source: the published hashes, sizes and label counts."""
    folder = _real_mnist_folder()
    if folder is None:
        pytest.skip("the real MNIST IDX files are not here (set CNN_TUTOR_MNIST_DIR to their folder to run this test)")
    mnist = data.load_mnist("idx", path=folder, verbose=False)
    assert mnist.x_train.shape == (60000, 28, 28, 1) and mnist.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.x_train.min() == 0.0 and mnist.x_train.max() == 1.0


# --- natural images ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(data.NATURAL_IMAGES))
def test_every_natural_image_loads_without_network(name):
    image = data.load_image(name, size=32)
    assert image.dtype == np.float32 and image.shape[:2] == (32, 32) and image.shape[2] in (1, 3)
    assert 0.0 <= image.min() and image.max() <= 1.0


def test_load_image_grayscale_and_batch():
    assert data.load_image("astronaut").shape == (512, 512, 3)
    assert data.load_image("astronaut", grayscale=True).shape == (512, 512, 1)
    assert data.load_image("astronaut", grayscale=True, size=(20, 30)).shape == (20, 30, 1)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: data.load_image("lena"), ValueError, "`name` must be one of .*received 'lena'"),
        (lambda: data.load_image("camera", size=0), ValueError, r"`size` must be >= 1; received 0"),
        (lambda: data.load_image("camera", size=(4, 0)), ValueError, r"`size\[1\]` must be >= 1"),
        (lambda: data.load_image("camera", size=(1, 2, 3)), ValueError, "`size` must be an int or a"),
    ],
)
def test_image_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- degradations -----------------------------------------------------------


def test_gaussian_noise_statistics_and_seed():
    clean = np.full((4, 64, 64, 1), 0.5, dtype=np.float32)
    noisy = data.add_gaussian_noise(clean, 0.1, rng=3, clip=False)
    assert abs(float(np.std(noisy - clean)) - 0.1) < 0.005
    assert abs(float(np.mean(noisy - clean))) < 0.005
    np.testing.assert_array_equal(noisy, data.add_gaussian_noise(clean, 0.1, rng=3, clip=False))
    assert not np.array_equal(noisy, data.add_gaussian_noise(clean, 0.1, rng=4, clip=False))
    clipped = data.add_gaussian_noise(clean, 2.0, rng=0)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    np.testing.assert_array_equal(data.add_gaussian_noise(clean, 0.0), clean)


def test_salt_pepper_fraction_and_values():
    clean = np.full((2, 100, 100, 1), 0.5, dtype=np.float32)
    noisy = data.add_salt_pepper_noise(clean, 0.2, rng=0)
    changed = noisy != 0.5
    assert abs(changed.mean() - 0.2) < 0.01
    assert set(np.unique(noisy[changed])) == {0.0, 1.0}
    assert abs((noisy == 1.0).mean() - 0.1) < 0.01
    # salt (1) and pepper (0) in the asked proportion: 80% of the hit pixels white
    skewed = data.add_salt_pepper_noise(clean, 0.2, rng=0, salt_fraction=0.8)
    assert abs((skewed == 1.0).mean() - 0.16) < 0.01 and abs((skewed == 0.0).mean() - 0.04) < 0.01
    only_pepper = data.add_salt_pepper_noise(clean, 0.3, rng=1, salt_fraction=0.0)
    assert (only_pepper == 1.0).sum() == 0 and abs((only_pepper == 0.0).mean() - 0.3) < 0.01


def test_masks_are_binary_and_fill_the_holes(images):
    one, one_mask = data.mask_random_boxes(images, box_size=(3, 5), rng=0)
    assert all(m.sum() == 15 for m in one_mask)  # one 3x5 box per image
    rows, cols = np.nonzero(one_mask[0, ..., 0])
    assert rows.max() - rows.min() == 2 and cols.max() - cols.min() == 4  # 3 rows high, 5 columns wide
    damaged, mask = data.mask_random_boxes(images, num_boxes=2, box_size=(3, 5), rng=0)
    assert mask.shape == (3, 16, 16, 1) and set(np.unique(mask)) <= {0.0, 1.0}
    assert np.all(damaged[mask[..., 0] == 1] == 0.0)
    np.testing.assert_array_equal(damaged[mask[..., 0] == 0], images[mask[..., 0] == 0])
    assert all(15 <= m.sum() <= 30 for m in mask)


def test_downsample_averages_blocks(images):
    small = data.downsample(images, 4)
    assert small.shape == (3, 4, 4, 1)
    np.testing.assert_allclose(small[1, 2, 3, 0], images[1, 8:12, 12:16, 0].mean(), rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: data.add_gaussian_noise(x, -0.5), ValueError, "`sigma` must be >= 0.0; received -0.5"),
        (lambda x: data.add_gaussian_noise(x[0], 0.1), ValueError, r"`images` must be 4-D .* received shape \(16, 16, 1\)"),
        (lambda x: data.add_gaussian_noise(x * 255, 0.1), ValueError, r"values in \[0.0, 1.0\].*divide by 255"),
        (lambda x: data.add_gaussian_noise(x, 0.1, rng="seed"), TypeError, "`rng` must be an int seed"),
        (lambda x: data.add_salt_pepper_noise(x, 1.5), ValueError, "`amount` must be <= 1.0"),
        (lambda x: data.mask_random_boxes(x, box_size=20), ValueError, r"`box_size` must fit inside the images \(16x16\); received 20x20"),
        (lambda x: data.mask_random_boxes(x, num_boxes=0), ValueError, "`num_boxes` must be >= 1"),
        (lambda x: data.downsample(x, 3), ValueError, r"`factor` must divide the image height and width \(16x16\); received 3"),
        (lambda x: data.downsample(x, 0), ValueError, "`factor` must be >= 1"),
        (lambda x: data.add_gaussian_noise(x.astype(str), 0.1), TypeError, "`images` must be a numeric array"),
    ],
)
def test_degradation_errors(images, call, error, message):
    with pytest.raises(error, match=message):
        call(images)
