"""Tests of cnn_tutor.models.vae: the ELBO's two terms on a hand-computed case, training, sampling, the latent map."""

import numpy as np
import pytest

from cnn_tutor.models import training, vae

keras = pytest.importorskip("keras")


def test_loss_terms_on_a_hand_computed_case():
    model = vae.build_vae(latent_dim=2, seed=0)
    images = np.zeros((2, 28, 28, 1), np.float32)
    images[:, :14] = 1.0  # half the pixels on
    outputs = {
        "probabilities": np.full((2, 28, 28, 1), 0.8, np.float32),
        "mean": np.array([[0.5, 0.0], [0.0, -1.0]], np.float32),
        "log_var": np.array([[np.log(4.0), 0.0], [0.0, 0.0]], np.float32),
    }
    reconstruction, kl = (float(v) for v in model.loss_terms(images, outputs))
    # -log 0.8 for the 392 pixels that are on, -log 0.2 for the 392 that are off
    assert reconstruction == pytest.approx(392 * (-np.log(0.8) - np.log(0.2)), rel=1e-5)
    # KL(N(mu, s^2) || N(0, 1)) = (s^2 + mu^2 - 1 - log s^2) / 2 per dimension, averaged over the 2 images
    first = (4 + 0.25 - 1 - np.log(4)) / 2 + (1 + 0 - 1 - 0) / 2
    second = (1 + 0 - 1 - 0) / 2 + (1 + 1 - 1 - 0) / 2
    assert kl == pytest.approx((first + second) / 2, rel=1e-5)
    model.beta = 0.5
    loss = float(model.compute_loss(images, None, outputs))
    assert loss == pytest.approx(reconstruction + 0.5 * kl, rel=1e-5)


def test_training_reports_both_terms_and_they_add_up(rng):
    model = vae.build_vae(latent_dim=2, seed=0)
    images = (rng.random((20, 28, 28, 1)) > 0.5).astype(np.float32)
    history = training.fit(model, images, epochs=1, batch_size=8).history  # batches of 8, 8 and 4
    assert set(history) == {"loss", "reconstruction", "kl"}
    assert history["loss"][0] == pytest.approx(history["reconstruction"][0] + history["kl"][0], rel=1e-5)
    assert history["kl"][0] >= 0
    # an untrained decoder gives about log(2) nats per pixel
    assert 0.3 * 784 < history["reconstruction"][0] < 2 * 784


def test_call_samples_in_training_and_uses_the_mean_otherwise(rng):
    model = vae.build_vae(latent_dim=2, seed=0)
    images = rng.random((3, 28, 28, 1)).astype(np.float32)
    inference = model(images, training=False)
    mean, _ = model.encoder(images)
    np.testing.assert_allclose(np.asarray(inference["probabilities"]), np.asarray(model.decoder(mean)), atol=1e-6)
    trained = model(images, training=True)
    assert not np.allclose(np.asarray(trained["probabilities"]), np.asarray(inference["probabilities"]))


def test_sampling_and_the_latent_grid():
    model = vae.build_vae(latent_dim=2, seed=0)
    samples = model.sample(5, seed=0)
    assert samples.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(samples, model.sample(5, seed=0))
    grid, axis = vae.latent_grid(model.decoder, num_points=3, limit=1.0)
    assert grid.shape == (9, 28, 28, 1) and axis.tolist() == [-1.0, 0.0, 1.0]
    # image 1 is the top row's middle code (z0 = 0, z1 = +1); image 6 the bottom-left (-1, -1)
    codes = np.array([[0.0, 1.0], [-1.0, -1.0]], np.float32)
    np.testing.assert_allclose(grid[[1, 6]], np.asarray(model.decoder(codes)), atol=1e-6)


def test_latent_grid_needs_2d_codes():
    model = vae.build_vae(latent_dim=3, seed=0)
    with pytest.raises(ValueError, match="2-D codes"):
        vae.latent_grid(model.decoder)


def test_negative_elbo_per_image_agrees_with_the_hand_checked_loss_terms(rng):
    model = vae.build_vae(latent_dim=2, seed=0)
    images = (rng.random((5, 28, 28, 1)) > 0.5).astype(np.float32)
    reconstruction, kl = model.negative_elbo(images, seed=3)
    assert reconstruction.shape == kl.shape == (5,)
    # the code the method drew: the encoder's Gaussian with NumPy noise of the seed
    mean, log_var = (np.asarray(a, np.float64) for a in model.encoder.predict(images, verbose=0))
    code = mean + np.exp(0.5 * log_var) * np.random.default_rng(3).standard_normal(mean.shape)
    probabilities = model.decoder.predict(code.astype(np.float32), verbose=0)
    for i in range(5):
        outputs = {"probabilities": probabilities[i:i + 1], "mean": mean[i:i + 1].astype(np.float32),
                   "log_var": log_var[i:i + 1].astype(np.float32)}
        terms = [float(v) for v in model.loss_terms(images[i:i + 1], outputs)]
        assert [reconstruction[i], kl[i]] == pytest.approx(terms, rel=1e-4)
    again, kl_again = model.negative_elbo(images, seed=3)
    np.testing.assert_array_equal(again, reconstruction)
    other, kl_other = model.negative_elbo(images, seed=4)
    np.testing.assert_array_equal(kl_other, kl)  # the KL term does not depend on the draw
    assert not np.array_equal(other, reconstruction)  # the reconstruction term does


def test_negative_elbo_rejects_images_of_another_shape():
    model = vae.build_vae(latent_dim=2, seed=0)
    with pytest.raises(ValueError, match=r"`images` must have shape \(n, 28, 28, 1\); received \(2, 14, 14, 1\)"):
        model.negative_elbo(np.zeros((2, 14, 14, 1), np.float32))
    with pytest.raises(ValueError, match="images"):
        model.negative_elbo(np.full((2, 28, 28, 1), 2.0, np.float32))
