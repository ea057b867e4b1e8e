"""Tests of cnn_tutor.models.vae: the ELBO's two terms, sampling and the latent map."""

import numpy as np
import pytest

from cnn_tutor.models import vae


def test_kl_divergence_closed_form():
    # KL(N(mu, s^2) || N(0, 1)) = (s^2 + mu^2 - 1 - log s^2) / 2
    mean, log_var = np.array([[0.5]]), np.array([[np.log(4.0)]])
    assert vae.kl_divergence(mean, log_var)[0] == pytest.approx((4 + 0.25 - 1 - np.log(4)) / 2)


def test_vae_train_step_reports_both_terms(rng):
    model = vae.build_vae(latent_dim=2, seed=0)
    images = (rng.random((16, 28, 28, 1)) > 0.5).astype(np.float32)
    history = model.fit(images, epochs=1, batch_size=8, verbose=0).history
    assert set(history) >= {"loss", "reconstruction", "kl"}
    assert history["loss"][0] == pytest.approx(history["reconstruction"][0] + history["kl"][0], rel=1e-5)
    assert history["kl"][0] >= 0
    # an untrained decoder gives about log(2) nats per pixel
    assert 0.3 * 784 < history["reconstruction"][0] < 2 * 784
    samples = model.sample(5, seed=0)
    assert samples.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(samples, model.sample(5, seed=0))
    grid, axis = vae.latent_grid(model.decoder, size=3, limit=1.0)
    assert grid.shape == (9, 28, 28, 1) and axis.tolist() == [-1.0, 0.0, 1.0]


def test_latent_grid_needs_2d_codes():
    model = vae.build_vae(latent_dim=3, seed=0)
    with pytest.raises(ValueError, match="2-D codes"):
        vae.latent_grid(model.decoder)
