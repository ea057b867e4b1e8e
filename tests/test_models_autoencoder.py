"""Tests of cnn_tutor.models.autoencoder."""

import numpy as np
import pytest

from cnn_tutor.models import autoencoder, training


def test_autoencoder_shapes_and_one_step(rng):
    model = autoencoder.build_autoencoder(latent_dim=3, seed=0)
    images = rng.random((8, 28, 28, 1)).astype(np.float32)
    run = training.fit(model, images, images, epochs=1, batch_size=4)
    assert np.isfinite(run.history["loss"][0])
    out = model.predict(images, verbose=0)
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert model.encoder.output_shape == (None, 3)
    np.testing.assert_allclose(out, np.asarray(model.decoder(model.encoder(images))), atol=1e-6)


def test_sample_latent_like_matches_moments(rng):
    codes = rng.normal(loc=[1.0, -2.0], scale=[0.5, 2.0], size=(2000, 2))
    samples = autoencoder.sample_latent_like(codes, 20000, rng=0)
    np.testing.assert_allclose(samples.mean(0), codes.mean(0), atol=0.05)
    np.testing.assert_allclose(samples.std(0), codes.std(0), rtol=0.05)


def test_errors():
    with pytest.raises(ValueError, match="divisible by 4"):
        autoencoder.build_encoder(image_shape=(30, 30, 1))
    with pytest.raises(ValueError, match="at least 2 rows"):
        autoencoder.sample_latent_like(np.zeros((1, 2)), 3)
    with pytest.raises(ValueError, match="pair of ints"):
        autoencoder.build_decoder(filters=(8,))
