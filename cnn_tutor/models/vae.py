"""A convolutional variational autoencoder (变分自编码器, VAE), without TensorFlow Probability.

The encoder gives the mean ``mu`` and log-variance ``log sigma^2`` of a
Gaussian ``q(z|x)``; a code is drawn with the reparameterisation trick
``z = mu + sigma * eps``, ``eps ~ N(0, I)`` (Kingma & Welling 2014), so the
gradient flows through ``mu`` and ``sigma``; the decoder gives Bernoulli pixel
probabilities ``p(x|z)``.  :class:`VAE` overrides ``compute_loss`` (not
``train_step``), so Keras's own training step runs it on every backend; the
loss is the negative evidence lower bound (ELBO), reported as its two terms::

    loss = reconstruction + beta * kl
    reconstruction = -E_q[log p(x|z)]   (binary cross-entropy summed over pixels)
    kl = KL(q(z|x) || N(0, I)) = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2)

both averaged over the batch, in nats per image.  New images are decoded from
``z ~ N(0, I)``.

Used by the Generation chapter.
"""

import keras
import numpy as np

from cnn_tutor import _validation, runtime
from cnn_tutor.models import autoencoder
from cnn_tutor.models._common import seed_weights

__all__ = ["VAE", "build_vae", "latent_grid"]


@keras.saving.register_keras_serializable(package="cnn_tutor")
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
    seed : int, optional
        Seed of the reparameterisation noise (``None``: the runtime's seed).
    **kwargs
        Passed to ``keras.Model`` (``name``).

    Notes
    -----
    ``fit`` on images (no targets) reports ``loss``, ``reconstruction`` and
    ``kl`` (per image, in nats; each epoch's mean is weighted by batch size,
    so ``loss = reconstruction + beta * kl`` holds for the epoch too).
    Calling the model returns a dict: the pixel probabilities
    (``"probabilities"``) decoded from a sampled code in training and from
    the mean code otherwise, and the code's ``"mean"`` and ``"log_var"``.
    """

    def __init__(self, encoder, decoder, *, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.beta = _validation.check_float("beta", beta, minimum=0.0)
        self.latent_dim = int(decoder.input_shape[-1])
        self.seed = runtime.resolve_seed(seed)
        self.noise_seed = keras.random.SeedGenerator(self.seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # encoder and decoder are built models; the VAE has no weights of its own

    def reparameterise(self, mean, log_var):
        """``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``."""
        eps = keras.random.normal(keras.ops.shape(mean), seed=self.noise_seed)
        return mean + keras.ops.exp(0.5 * log_var) * eps

    def call(self, images, training=False):
        """Encode, sample a code in training (the mean otherwise), decode; return a dict of tensors."""
        mean, log_var = self.encoder(images, training=training)
        code = self.reparameterise(mean, log_var) if training else mean
        return {"probabilities": self.decoder(code, training=training), "mean": mean, "log_var": log_var}

    def loss_terms(self, images, outputs):
        """The batch means of the reconstruction term and the KL term, in nats per image.

        Parameters
        ----------
        images : array_like
            The input images in [0, 1] (the Bernoulli targets).
        outputs : dict
            What calling the model returned for them.
        """
        ops = keras.ops
        probs = ops.clip(outputs["probabilities"], 1e-7, 1.0 - 1e-7)
        bce = -(images * ops.log(probs) + (1.0 - images) * ops.log(1.0 - probs))
        reconstruction = ops.mean(ops.sum(bce, axis=(1, 2, 3)))
        mean, log_var = outputs["mean"], outputs["log_var"]
        kl = ops.mean(-0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=1))
        return reconstruction, kl

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The negative ELBO ``reconstruction + beta * kl`` of the batch ``x``; updates the two terms' trackers."""
        reconstruction, kl = self.loss_terms(x, y_pred)
        batch = keras.ops.shape(x)[0]
        self.reconstruction_tracker.update_state(reconstruction, sample_weight=batch)
        self.kl_tracker.update_state(kl, sample_weight=batch)
        return reconstruction + self.beta * kl

    def sample(self, num_images, *, seed=None):
        """Decode ``num_images`` codes drawn from the prior N(0, I) (NumPy noise; ``None``: the runtime's seed)."""
        num_images = _validation.check_int("num_images", num_images, minimum=1)
        rng = np.random.default_rng(runtime.resolve_seed(seed))
        z = rng.standard_normal((num_images, self.latent_dim)).astype(np.float32)
        return np.asarray(self.decoder.predict(z, batch_size=256, verbose=0))

    def negative_elbo(self, images, *, seed=None, batch_size=500):
        """The two terms of the negative ELBO of each image, in nats: a held-out score of the model.

        The same terms as :meth:`loss_terms`, per image instead of a batch
        mean, with the code drawn from ``q(z | x)`` (one draw per image,
        NumPy noise of ``seed``), as the ELBO has it.  (Keras's ``evaluate``
        would decode the mean code instead, which is not the ELBO.)

        Parameters
        ----------
        images : array_like
            Images ``(n, height, width, channels)`` in [0, 1].
        seed : int, optional
            Seed of the code's noise (``None``: the runtime's seed).
        batch_size : int
            Images per forward pass.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            The reconstruction term and the KL term of each image, ``(n,)``
            float64; their sum is the one-sample estimate of ``-ELBO``.

        Raises
        ------
        ValueError
            If the images are not a batch in [0, 1] of the model's shape.
        """
        images = _validation.check_images("images", images)
        expected = tuple(self.decoder.output_shape[1:])
        if images.shape[1:] != expected:
            raise ValueError(f"`images` must have shape (n, {', '.join(map(str, expected))}); received {images.shape}.")
        batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
        mean, log_var = (np.asarray(a, dtype=np.float64)
                         for a in self.encoder.predict(images, batch_size=batch_size, verbose=0))
        eps = np.random.default_rng(runtime.resolve_seed(seed)).standard_normal(mean.shape)
        code = (mean + np.exp(0.5 * log_var) * eps).astype(np.float32)
        probs = np.clip(np.asarray(self.decoder.predict(code, batch_size=batch_size, verbose=0), np.float64),
                        1e-7, 1.0 - 1e-7)
        x = images.astype(np.float64)
        reconstruction = -(x * np.log(probs) + (1.0 - x) * np.log(1.0 - probs)).reshape(len(x), -1).sum(axis=1)
        kl = -0.5 * (1.0 + log_var - mean**2 - np.exp(log_var)).sum(axis=1)
        return reconstruction, kl

    def get_config(self):
        """The configuration: the two networks (serialised), ``beta`` and the seed."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuild the VAE from :meth:`get_config` (the networks first)."""
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)


def build_vae(latent_dim=2, image_shape=(28, 28, 1), *, beta=1.0, learning_rate=1e-3, seed=None):
    """Build and compile a convolutional :class:`VAE` (encoder and decoder from :mod:`.autoencoder`).

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
    seed : int, optional
        Seed of the weights and of the sampling noise (``None``: the runtime's seed).

    Returns
    -------
    VAE
        Train it with :func:`cnn_tutor.models.training.fit` ``(vae, images, epochs=...)``.

    Examples
    --------
    >>> vae = build_vae(latent_dim=2)
    >>> vae.encoder.output_shape, vae.decoder.output_shape
    ([(None, 2), (None, 2)], (None, 28, 28, 1))
    """
    latent_dim = _validation.check_int("latent_dim", latent_dim, minimum=1)
    beta = _validation.check_float("beta", beta, minimum=0.0)
    learning_rate = _validation.check_float("learning_rate", learning_rate, minimum=0.0)
    seed = seed_weights(seed)
    encoder = autoencoder.build_encoder(latent_dim, image_shape, outputs=2, name="vae_encoder")
    decoder = autoencoder.build_decoder(latent_dim, image_shape, name="vae_decoder")
    vae = VAE(encoder, decoder, beta=beta, seed=seed, name="vae")
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return vae


def latent_grid(decoder, *, num_points=15, limit=2.0):
    """Decode a ``num_points x num_points`` grid of 2-D codes in ``[-limit, limit]^2`` (a map of the latent space).

    Row ``i``, column ``j`` of the grid is the code ``(axis[j], axis[-1 - i])``:
    the first coordinate grows to the right, the second upwards, as on a plot.

    Parameters
    ----------
    decoder : keras.Model
        A decoder of 2-D codes (``vae.decoder``).
    num_points : int
        Codes along each axis (>= 2).
    limit : float
        The grid spans ``[-limit, limit]`` on both axes.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The images ``(num_points * num_points, h, w, c)`` row by row (top
        row: largest second coordinate) and the coordinates of the grid
        ``(num_points,)``.

    Raises
    ------
    ValueError
        If the decoder's latent space is not 2-D.
    """
    num_points = _validation.check_int("num_points", num_points, minimum=2)
    limit = _validation.check_float("limit", limit, minimum=0.0)
    if int(decoder.input_shape[-1]) != 2:
        raise ValueError(
            f"`decoder` must take 2-D codes to draw a latent map; received latent_dim {decoder.input_shape[-1]}."
        )
    axis = np.linspace(-limit, limit, num_points, dtype=np.float32)
    codes = np.array([[x, y] for y in axis[::-1] for x in axis], dtype=np.float32)
    return np.asarray(decoder.predict(codes, batch_size=256, verbose=0)), axis
