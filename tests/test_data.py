"""Tests of cnn_tutor.data: MNIST sources, natural images, degradations."""

import socket

import numpy as np
import pytest

from cnn_tutor import data, runtime
from cnn_tutor.data import mnist as mnist_module


# --- MNIST ------------------------------------------------------------------


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
        ({"source": "internet"}, ValueError, "`source` must be one of 'bundled', 'keras', None; received 'internet'"),
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
