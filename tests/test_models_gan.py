"""Tests of cnn_tutor.models.gan and train_dcgan: shapes, the losses on a hand-computed case, one step, resuming."""

import keras
import numpy as np
import pytest

from cnn_tutor.models import checkpoints, gan, training

keras = pytest.importorskip("keras")


def _tiny_gan(seed=0, **kwargs):
    return gan.build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8, seed=seed,
                           **kwargs)


@pytest.fixture
def digits(rng):
    return rng.random((16, 28, 28, 1)).astype(np.float32)


def _bce_with_logits(target, logit):
    p = 1.0 / (1.0 + np.exp(-logit))
    return -(target * np.log(p) + (1.0 - target) * np.log(1.0 - p))


def test_tanh_range_round_trip(rng):
    images = rng.random((2, 4, 4, 1))
    np.testing.assert_allclose(gan.from_tanh_range(gan.to_tanh_range(images)), images, atol=1e-12)
    np.testing.assert_array_equal(gan.to_tanh_range(np.array([0.0, 0.25, 1.0])), [-1.0, -0.5, 1.0])


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


def test_the_generator_of_the_ablation_changes_and_the_discriminator_does_not():
    base = dict(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8, seed=0)
    chapter = gan.build_dcgan(**base)
    shallower = gan.build_dcgan(**base, generator_dense_units=0)
    deeper = gan.build_dcgan(**base, generator_extra_convs=2)
    assert [layer.name for layer in shallower.generator.layers if layer.name == "hidden"] == []
    convs = [layer for layer in deeper.generator.layers if layer.name.startswith("conv")]
    # two 3x3 stride-1 convolutions after each transposed convolution, at its resolution and width
    assert [(layer.name, layer.kernel_size, layer.strides, layer.filters) for layer in convs] == [
        ("conv1_1", (3, 3), (1, 1), 8), ("conv1_2", (3, 3), (1, 1), 8),
        ("conv2_1", (3, 3), (1, 1), 4), ("conv2_2", (3, 3), (1, 1), 4),
    ]
    assert deeper.generator.count_params() == chapter.generator.count_params() + 2 * (9 * 8 * 8 + 4 * 8) + 2 * (
        9 * 4 * 4 + 4 * 4)  # kernels without bias, and four batch-normalisation weights per channel
    assert deeper.generator.output_shape == (None, 28, 28, 1)
    for other in (shallower, deeper):  # the same discriminator, with the same initial weights
        for a, b in zip(other.discriminator.weights, chapter.discriminator.weights):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_losses_on_a_hand_computed_case(digits):
    # A discriminator whose logit is the constant b (zero kernel): the losses follow by hand.
    model = _tiny_gan(label_smoothing=0.1)
    b = 0.5
    logit = model.discriminator.get_layer("logit")
    logit.set_weights([np.zeros_like(logit.get_weights()[0]), np.full(1, b, np.float32)])
    noise = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    d_loss, g_loss, real_logits, fake_logits = (np.asarray(v) for v in model.losses_of(digits[:4], noise))
    np.testing.assert_allclose(real_logits, b, rtol=1e-6)
    np.testing.assert_allclose(fake_logits, b, rtol=1e-6)
    # real images are labelled 1 - 0.1, generated ones 0 (one-sided smoothing); the generator wants 1
    np.testing.assert_allclose(d_loss, _bce_with_logits(0.9, b) + _bce_with_logits(0.0, b), rtol=1e-5)
    np.testing.assert_allclose(g_loss, _bce_with_logits(1.0, b), rtol=1e-5)


def test_real_images_enter_in_the_tanh_range(digits):
    # The discriminator sees real images mapped from [0, 1] to [-1, 1], like the generator's tanh output.
    model = _tiny_gan()
    seen = []
    original = model.discriminator.call

    def spy(inputs, *args, **kwargs):
        seen.append(np.asarray(inputs))
        return original(inputs, *args, **kwargs)

    model.discriminator.call = spy
    model.losses_of(digits[:2], np.zeros((2, 8), np.float32))
    np.testing.assert_allclose(seen[0], digits[:2] * 2 - 1, atol=1e-6)


def test_one_train_step_updates_both_networks_with_one_optimizer(digits):
    model = _tiny_gan()
    g_before = [w.copy() for w in model.generator.get_weights()]
    d_before = [w.copy() for w in model.discriminator.get_weights()]
    run = training.train_dcgan(model, digits[:8], epochs=1, batch_size=8)
    assert int(model.optimizer.iterations) == 1
    assert not all(np.array_equal(a, b) for a, b in zip(model.generator.get_weights(), g_before))
    assert not all(np.array_equal(a, b) for a, b in zip(model.discriminator.get_weights(), d_before))
    assert set(run.history) == {"d_loss", "g_loss", "d_real", "d_fake"}


def test_a_smaller_discriminator_learning_rate_scales_its_step(digits):
    steps = {}
    for rate in (2e-4, 2e-5):
        model = _tiny_gan(discriminator_learning_rate=rate)
        nets = model.generator, model.discriminator
        before = [[np.asarray(w) for w in net.trainable_weights] for net in nets]  # not the batch-norm statistics
        training.fit(model, digits[:8], epochs=1, batch_size=8, shuffle=False)
        steps[rate] = [[np.asarray(new) - old for new, old in zip(net.trainable_weights, start)]
                       for net, start in zip(nets, before)]
    for a, b in zip(steps[2e-4][0], steps[2e-5][0]):  # the generator's step is the same
        np.testing.assert_allclose(b, a, atol=1e-7)
    moved = [(a, b) for a, b in zip(steps[2e-4][1], steps[2e-5][1]) if np.abs(a).max() > 0]
    assert moved
    for a, b in moved:  # the discriminator's is ten times smaller (Adam's step is proportional to it)
        np.testing.assert_allclose(b, a / 10, atol=1e-7)


def test_train_step_reports_losses_and_grid(digits):
    model = _tiny_gan()
    noise = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    run = training.train_dcgan(model, digits, epochs=1, batch_size=8, grid_noise=noise)
    assert all(np.isfinite(v[0]) for v in run.history.values())
    assert 0.0 < run.history["d_real"][0] < 1.0 and 0.0 < run.history["d_fake"][0] < 1.0
    assert list(run.grids) == [1] and run.grids[1].shape == (4, 28, 28, 1)
    # the grid is the generator's image of that noise, mapped to [0, 1]
    expected = gan.from_tanh_range(np.asarray(model.generator(noise, training=False)))
    np.testing.assert_allclose(run.grids[1], expected, atol=1e-6)
    samples = gan.generate(model, 3, seed=0)
    np.testing.assert_array_equal(samples, gan.generate(model.generator, 3, seed=0))
    assert samples.shape == (3, 28, 28, 1) and samples.min() >= 0 and samples.max() <= 1


def test_interrupted_training_resumes_from_checkpoint(digits, tmp_path):
    # Train one epoch with checkpoints, then "lose" the process: a fresh model
    # (other initial weights) restored from the directory must carry on.
    first = _tiny_gan(seed=0)
    run = training.train_dcgan(first, digits, epochs=1, batch_size=8, checkpoint_dir=tmp_path)
    assert run.initial_epoch == 0 and run.final_epoch == 1
    saved_g = [w.copy() for w in first.generator.get_weights()]
    saved_d = [w.copy() for w in first.discriminator.get_weights()]
    saved_steps = int(first.optimizer.iterations)
    assert saved_steps == 2

    second = _tiny_gan(seed=1)  # different initial weights: a restart would not match
    assert not all(np.array_equal(a, b) for a, b in zip(second.generator.get_weights(), saved_g))
    assert checkpoints.restore_checkpoint(second, tmp_path) == 1
    for a, b in zip(second.generator.get_weights(), saved_g):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(second.discriminator.get_weights(), saved_d):
        np.testing.assert_array_equal(a, b)
    assert int(second.optimizer.iterations) == saved_steps
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(second.noise_seed.state),
                                  keras.ops.convert_to_numpy(first.noise_seed.state))
    moments = [v for v in second.optimizer.variables if "momentum" in v.path]
    assert moments and any(np.any(np.asarray(v) != 0) for v in moments)

    resumed = training.train_dcgan(second, digits, epochs=2, batch_size=8, checkpoint_dir=tmp_path)
    assert resumed.initial_epoch == 1 and resumed.final_epoch == 2
    assert len(resumed.history["g_loss"]) == 1  # only epoch 2 ran
    assert int(second.optimizer.iterations) == 2 * saved_steps
    assert not all(np.array_equal(a, b) for a, b in zip(second.generator.get_weights(), saved_g))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ckpt-0001.npz", "ckpt-0002.npz"]

    # Asking again for 2 epochs trains nothing: the checkpoint is already there.
    third = _tiny_gan(seed=2)
    again = training.train_dcgan(third, digits, epochs=2, batch_size=8, checkpoint_dir=tmp_path)
    assert again.initial_epoch == 2 and again.history == {}
    for a, b in zip(third.generator.get_weights(), second.generator.get_weights()):
        np.testing.assert_array_equal(a, b)

    other = gan.build_dcgan(latent_dim=8, generator_filters=8, discriminator_filters=4, dense_units=8)
    with pytest.raises(ValueError, match="another architecture or optimizer|has shape"):
        checkpoints.restore_checkpoint(other, tmp_path)


def test_errors(digits):
    model = _tiny_gan()
    with pytest.raises(ValueError, match="divisible by 4"):
        gan.build_generator(image_shape=(30, 30, 1))
    with pytest.raises(ValueError, match="dense_units"):
        gan.build_generator(dense_units=-1)
    with pytest.raises(TypeError, match="dense_units"):
        gan.build_discriminator(dense_units=1.5)
    with pytest.raises(ValueError, match=r"`extra_convs` must be >= 0; received -1"):
        gan.build_generator(extra_convs=-1)
    with pytest.raises(ValueError, match=r"`dense_units` must be >= 0; received -2"):
        gan.build_dcgan(generator_dense_units=-2)
    with pytest.raises(ValueError, match=r"`label_smoothing` must be <= 0.5"):
        _tiny_gan(label_smoothing=0.7)
    with pytest.raises(ValueError, match=r"values in \[0.0, 1.0\]"):
        training.train_dcgan(model, digits * 2 - 1, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="at least `batch_size`"):
        training.train_dcgan(model, digits, epochs=1, batch_size=64)
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28, 1\)"):
        training.train_dcgan(model, np.zeros((16, 32, 32, 1)), epochs=1, batch_size=8)
