"""Tests of cnn_tutor.models.gan: shapes, one train step, and resuming from a checkpoint."""

import numpy as np
import pytest

from cnn_tutor.models import gan


def _tiny_gan(seed=0):
    return gan.build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8, seed=seed)


@pytest.fixture
def digits(rng):
    return rng.random((16, 28, 28, 1)).astype(np.float32)


def test_tanh_range_round_trip(rng):
    images = rng.random((2, 4, 4, 1))
    np.testing.assert_allclose(gan.from_tanh_range(gan.to_tanh_range(images)), images, atol=1e-12)


def test_builders_shapes_and_layers():
    generator = gan.build_generator(latent_dim=8, base_filters=4, dense_units=16)
    names = [layer.__class__.__name__ for layer in generator.layers]
    assert names.count("Conv2DTranspose") == 2 and "BatchNormalization" in names
    assert generator.output_shape == (None, 28, 28, 1)
    # the feature maps: 7x7x16 -> 14x14x8 -> 28x28x4 -> the image
    assert generator.get_layer("reshape").output.shape[1:] == (7, 7, 16)
    assert generator.get_layer("up2").output.shape[1:] == (28, 28, 4)
    assert generator.get_layer("hidden").units == 16
    discriminator = gan.build_discriminator(base_filters=4, dense_units=8)
    assert discriminator.output_shape == (None, 1)
    assert discriminator.get_layer("hidden").units == 8
    assert not any(layer.__class__.__name__ == "Dropout" for layer in discriminator.layers)


@pytest.mark.parametrize("dense_units", [0, 8])
def test_dense_units_zero_drops_the_hidden_layer(dense_units):
    generator = gan.build_generator(latent_dim=8, base_filters=4, dense_units=dense_units)
    discriminator = gan.build_discriminator(base_filters=4, dense_units=dense_units, dropout=0.3)
    dense = [layer for layer in generator.layers if layer.__class__.__name__ == "Dense"]
    assert len(dense) == (2 if dense_units else 1)
    dense = [layer for layer in discriminator.layers if layer.__class__.__name__ == "Dense"]
    assert len(dense) == (2 if dense_units else 1)
    assert sum(layer.__class__.__name__ == "Dropout" for layer in discriminator.layers) == 2
    assert generator.output_shape == (None, 28, 28, 1) and discriminator.output_shape == (None, 1)


def test_one_train_step_updates_both_networks(digits):
    model = _tiny_gan()
    g_before = [w.copy() for w in model.generator.get_weights()]
    d_before = [w.copy() for w in model.discriminator.get_weights()]
    gan.train_dcgan(model, digits[:8], epochs=1, batch_size=8)
    assert int(model.g_optimizer.iterations.numpy()) == int(model.d_optimizer.iterations.numpy()) == 1
    assert not all(np.array_equal(a, b) for a, b in zip(model.generator.get_weights(), g_before))
    assert not all(np.array_equal(a, b) for a, b in zip(model.discriminator.get_weights(), d_before))


def test_train_step_reports_losses_and_grid(digits):
    model = _tiny_gan()
    noise = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    run = gan.train_dcgan(model, digits, epochs=1, batch_size=8, grid_noise=noise)
    assert set(run.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v[0]) for v in run.history.values())
    assert list(run.grids) == [1] and run.grids[1].shape == (4, 28, 28, 1)
    assert 0.0 <= run.grids[1].min() and run.grids[1].max() <= 1.0
    samples = gan.generate(model, 3, seed=0)
    assert samples.shape == (3, 28, 28, 1)


def test_interrupted_training_resumes_from_checkpoint(digits, tmp_path):
    # Train one epoch with checkpoints, then "lose" the process: a fresh model
    # (other initial weights) restored from the directory must carry on.
    first = _tiny_gan(seed=0)
    run = gan.train_dcgan(first, digits, epochs=1, batch_size=8, checkpoint_dir=tmp_path)
    assert run.initial_epoch == 0
    saved_g = [w.copy() for w in first.generator.get_weights()]
    saved_d = [w.copy() for w in first.discriminator.get_weights()]
    saved_steps = int(first.g_optimizer.iterations.numpy())
    assert saved_steps == 2

    second = _tiny_gan(seed=1)  # different initial weights: a restart would not match
    assert not all(np.array_equal(a, b) for a, b in zip(second.generator.get_weights(), saved_g))
    assert gan.restore_dcgan(second, tmp_path) == 1
    for a, b in zip(second.generator.get_weights(), saved_g):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(second.discriminator.get_weights(), saved_d):
        np.testing.assert_array_equal(a, b)
    assert int(second.g_optimizer.iterations.numpy()) == saved_steps
    first_moment = [v for v in second.g_optimizer.variables if "momentum" in v.path]
    assert first_moment and any(np.any(np.asarray(v) != 0) for v in first_moment)

    resumed = gan.train_dcgan(second, digits, epochs=2, batch_size=8, checkpoint_dir=tmp_path)
    assert resumed.initial_epoch == 1
    assert len(resumed.history["g_loss"]) == 1  # only epoch 2 ran
    assert int(second.epoch_counter.numpy()) == 2
    assert int(second.g_optimizer.iterations.numpy()) == 2 * saved_steps
    assert not all(np.array_equal(a, b) for a, b in zip(second.generator.get_weights(), saved_g))

    # Asking again for 2 epochs trains nothing: the checkpoint is already there.
    third = _tiny_gan(seed=2)
    again = gan.train_dcgan(third, digits, epochs=2, batch_size=8, checkpoint_dir=tmp_path)
    assert again.initial_epoch == 2 and again.history == {}
    for a, b in zip(third.generator.get_weights(), second.generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_errors(digits):
    model = _tiny_gan()
    with pytest.raises(ValueError, match="divisible by 4"):
        gan.build_generator(image_shape=(30, 30, 1))
    with pytest.raises(ValueError, match="dense_units"):
        gan.build_generator(dense_units=-1)
    with pytest.raises(TypeError, match="dense_units"):
        gan.build_discriminator(dense_units=1.5)
    with pytest.raises(ValueError, match=r"values in \[0.0, 1.0\]"):
        gan.train_dcgan(model, digits * 2 - 1, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="at least `batch_size`"):
        gan.train_dcgan(model, digits, epochs=1, batch_size=64)
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28, 1\)"):
        gan.train_dcgan(model, np.zeros((16, 32, 32, 1)), epochs=1, batch_size=8)
