"""A convolutional variational autoencoder (变分自编码器, VAE), without TensorFlow Probability.

The encoder gives the mean ``mu`` and log-variance ``log sigma^2`` of a
Gaussian ``q(z|x)``; a code is drawn with the reparameterisation trick
``z = mu + sigma * eps``, ``eps ~ N(0, I)`` (Kingma & Welling 2014), so the
gradient flows through ``mu`` and ``sigma``; the decoder gives Bernoulli pixel
probabilities ``p(x|z)``.  ``VAE`` overrides ``train_step`` to minimise
the negative evidence lower bound (ELBO), reported as its two terms::

    loss = reconstruction + kl
    reconstruction = -E_q[log p(x|z)]   (binary cross-entropy summed over pixels)
    kl = KL(q(z|x) || N(0, I)) = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2)

both averaged over the batch.  New images are decoded from ``z ~ N(0, I)``.

Used by the Generation chapter.
"""

import numpy as np

from cnn_tutor import _validation
from cnn_tutor.models import autoencoder

__all__ = ["VAE", "build_vae", "kl_divergence", "latent_grid"]


def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) for each row, in nats (NumPy).

    Examples
    --------
    >>> kl_divergence(np.zeros((1, 2)), np.zeros((1, 2)))
    array([0.])
    >>> kl_divergence(np.array([[3.0, 4.0]]), np.zeros((1, 2)))  # |mu|^2 / 2
    array([12.5])
    """
    mean = _validation.as_float_array("mean", mean).astype(np.float64)
    log_var = _validation.as_float_array("log_var", log_var).astype(np.float64)
    _validation.check_same_shape("mean", mean, "log_var", log_var)
    return -0.5 * np.sum(1.0 + log_var - mean**2 - np.exp(log_var), axis=-1)


def _vae_class():
    import keras
    import tensorflow as tf

    class VAE(keras.Model):
        """Encoder, reparameterised sampling and decoder, trained on the negative ELBO.

        Parameters
        ----------
        encoder : keras.Model
            Images -> ``[mean, log_var]``, each ``(batch, latent_dim)``.
        decoder : keras.Model
            Codes -> pixel probabilities in [0, 1].
        beta : float
            Weight of the KL term (1 gives the ELBO).
        seed : int
            Seed of the reparameterisation noise.

        Notes
        -----
        ``fit(images)`` reports ``loss``, ``reconstruction`` and ``kl``
        (per image, in nats).  Calling the model returns the reconstruction
        of the mean code (no sampling).
        """

        def __init__(self, encoder, decoder, beta=1.0, seed=0, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder
            self.beta = float(beta)
            self.latent_dim = int(decoder.input_shape[-1])
            self.noise_seed = keras.random.SeedGenerator(seed)
            self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl")}

        @property
        def metrics(self):
            return list(self.trackers.values())

        def call(self, images, training=False):
            mean, _ = self.encoder(images, training=training)
            return self.decoder(mean, training=training)

        def reparameterise(self, mean, log_var):
            """``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``."""
            eps = keras.random.normal(tf.shape(mean), seed=self.noise_seed)
            return mean + tf.exp(0.5 * log_var) * eps

        def losses_of(self, images, training=False):
            """Per-batch mean reconstruction term and KL term, in nats per image."""
            mean, log_var = self.encoder(images, training=training)
            z = self.reparameterise(mean, log_var)
            probs = tf.clip_by_value(self.decoder(z, training=training), 1e-7, 1.0 - 1e-7)
            bce = -(images * tf.math.log(probs) + (1.0 - images) * tf.math.log(1.0 - probs))
            reconstruction = tf.reduce_mean(tf.reduce_sum(bce, axis=[1, 2, 3]))
            kl = tf.reduce_mean(-0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mean) - tf.exp(log_var), axis=1))
            return reconstruction, kl

        def _report(self, reconstruction, kl):
            loss = reconstruction + self.beta * kl
            for name, value in (("loss", loss), ("reconstruction", reconstruction), ("kl", kl)):
                self.trackers[name].update_state(value)
            return {name: tracker.result() for name, tracker in self.trackers.items()}

        def train_step(self, data):
            images = data[0] if isinstance(data, tuple) else data
            with tf.GradientTape() as tape:
                reconstruction, kl = self.losses_of(images, training=True)
                loss = reconstruction + self.beta * kl
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            return self._report(reconstruction, kl)

        def test_step(self, data):
            images = data[0] if isinstance(data, tuple) else data
            return self._report(*self.losses_of(images, training=False))

        def sample(self, num_images, *, seed=0):
            """Decode ``num_images`` codes drawn from the prior N(0, I) (NumPy seed)."""
            z = np.random.default_rng(seed).standard_normal((int(num_images), self.latent_dim)).astype(np.float32)
            return np.asarray(self.decoder.predict(z, batch_size=256, verbose=0))

    return VAE


_VAE_CLASS = None


def __getattr__(name):
    # ``VAE`` is created on first use, so importing this module does not import Keras.
    global _VAE_CLASS
    if name == "VAE":
        if _VAE_CLASS is None:
            _VAE_CLASS = _vae_class()
        return _VAE_CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_vae(latent_dim=2, image_shape=(28, 28, 1), *, beta=1.0, learning_rate=1e-3, seed=0):
    """Build and compile a convolutional ``VAE`` (encoder and decoder from :mod:`.autoencoder`).

    Parameters
    ----------
    latent_dim : int
        Size of the latent code (2 lets the chapter draw a map of it).
    image_shape : (int, int, int)
        Shape of one image.
    beta : float
        Weight of the KL term.
    learning_rate : float
        Adam's learning rate.
    seed : int
        Seed of the weights and of the sampling noise.

    Returns
    -------
    VAE
        Train it with ``fit(images, epochs=..., batch_size=...)``.

    Examples
    --------
    >>> vae = build_vae(latent_dim=2)
    >>> vae.encoder.output_shape, vae.decoder.output_shape
    ([(None, 2), (None, 2)], (None, 28, 28, 1))
    """
    import keras

    latent_dim = _validation.check_int("latent_dim", latent_dim, minimum=1)
    beta = _validation.check_float("beta", beta, minimum=0.0)
    learning_rate = _validation.check_float("learning_rate", learning_rate, minimum=0.0)
    seed = _validation.check_int("seed", seed, minimum=0)
    keras.utils.set_random_seed(seed)
    encoder = autoencoder.build_encoder(latent_dim, image_shape, outputs=2, name="vae_encoder")
    decoder = autoencoder.build_decoder(latent_dim, image_shape, name="vae_decoder")
    vae = __getattr__("VAE")(encoder, decoder, beta=beta, seed=seed, name="vae")
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return vae


def latent_grid(decoder, *, size=15, limit=2.0):
    """Decode a ``size x size`` grid of 2-D codes in ``[-limit, limit]^2`` (a map of the latent space).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The images ``(size * size, h, w, c)`` row by row (top row: largest
        second coordinate) and the coordinates of the grid ``(size,)``.

    Raises
    ------
    ValueError
        If the decoder's latent space is not 2-D.
    """
    size = _validation.check_int("size", size, minimum=2)
    limit = _validation.check_float("limit", limit, minimum=0.0)
    if int(decoder.input_shape[-1]) != 2:
        raise ValueError(
            f"`decoder` must take 2-D codes to draw a latent map; received latent_dim {decoder.input_shape[-1]}."
        )
    axis = np.linspace(-limit, limit, size, dtype=np.float32)
    codes = np.array([[x, y] for y in axis[::-1] for x in axis], dtype=np.float32)
    return np.asarray(decoder.predict(codes, batch_size=256, verbose=0)), axis
