"""A deep convolutional GAN (DCGAN) for 28x28 digits, with checkpoints that resume.

The generator (生成器) maps a noise vector to an image with transposed
convolutions and batch normalisation; the discriminator (判别器) is a
convolutional classifier "real or generated".  ``DCGAN`` is a
``keras.Model`` that overrides ``train_step`` to train both networks in turn
(Goodfellow et al. 2014, architecture after Radford et al. 2016):

- the discriminator minimises the binary cross-entropy of real images
  (label ``1 - label_smoothing``) and generated ones (label 0);
- the generator minimises the *non-saturating* loss ``-log D(G(z))``.

Images enter and leave in the book's convention ([0, 1]); the networks work
in the tanh range [-1, 1] (:func:`to_tanh_range`, :func:`from_tanh_range`).

:func:`train_dcgan` runs ``fit`` with a :class:`SampleGrid` callback (a
fixed-noise sample grid after every epoch) and a :class:`GanCheckpoint`
callback; called again with the same ``checkpoint_dir`` after an
interruption, it restores the weights, the optimizers' state and the epoch
counter and continues where the training stopped.

Used by the Generation chapter.
"""

import pathlib
import typing

import numpy as np

from cnn_tutor import _validation

__all__ = [
    "DCGAN",
    "GanCheckpoint",
    "GanRun",
    "SampleGrid",
    "build_dcgan",
    "build_discriminator",
    "build_generator",
    "from_tanh_range",
    "restore_dcgan",
    "to_tanh_range",
    "train_dcgan",
]


def to_tanh_range(images):
    """Map images from [0, 1] (the book's convention) to [-1, 1] (a tanh output).

    Examples
    --------
    >>> to_tanh_range(np.array([0.0, 0.5, 1.0]))
    array([-1.,  0.,  1.])
    """
    return np.asarray(images) * 2.0 - 1.0


def from_tanh_range(images):
    """Map images from [-1, 1] back to [0, 1], clipping what falls outside.

    Examples
    --------
    >>> from_tanh_range(np.array([-1.0, 0.0, 1.0, 1.5]))
    array([0. , 0.5, 1. , 1. ])
    """
    return np.clip((np.asarray(images) + 1.0) / 2.0, 0.0, 1.0)


def _check_image_shape(image_shape):
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3:
        raise ValueError(f"`image_shape` must be (height, width, channels), e.g. (28, 28, 1); received {image_shape!r}.")
    shape = tuple(_validation.check_int(f"image_shape[{i}]", v, minimum=1) for i, v in enumerate(image_shape))
    if shape[0] % 4 or shape[1] % 4:
        raise ValueError(
            f"`image_shape` must have a height and width divisible by 4 (two stride-2 layers); received {shape}. "
            "Pad the images, e.g. to (32, 32, 1)."
        )
    return shape


def build_generator(
    latent_dim=64, image_shape=(28, 28, 1), *, base_filters=32, dense_units=256, seed=None, name="generator"
):
    """The DCGAN generator: noise ``(batch, latent_dim)`` -> images in [-1, 1].

    ``Dense(dense_units) -> Dense -> 7x7x(4*base_filters)
    -> Conv2DTranspose(2*base_filters, stride 2) -> Conv2DTranspose(base_filters,
    stride 2) -> Conv2D(channels, tanh)``, with batch normalisation and ReLU
    after every layer but the last (Radford et al. 2016).  The layout follows
    TF-GAN's MNIST example: two dense layers before the first feature map, and
    a last transposed convolution at full resolution so that the output
    convolution mixes ``base_filters`` maps instead of upsampling directly to
    one channel.

    Parameters
    ----------
    latent_dim : int
        Size of the noise vector.
    image_shape : (int, int, int)
        Shape of one image; height and width divisible by 4.
    base_filters : int
        Filters of the last transposed convolution (the one before has twice
        as many, the first feature map four times as many).
    dense_units : int
        Units of the hidden dense layer after the noise (0 for none).
    seed : int, optional
        Seed Keras before the weights are created.
    name : str
        The model's name.

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> build_generator(latent_dim=8, base_filters=4, dense_units=16).output_shape
    (None, 28, 28, 1)
    """
    import keras

    latent_dim = _validation.check_int("latent_dim", latent_dim, minimum=1)
    height, width, channels = _check_image_shape(image_shape)
    base_filters = _validation.check_int("base_filters", base_filters, minimum=1)
    dense_units = _validation.check_int("dense_units", dense_units, minimum=0)
    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))
    inputs = keras.Input(shape=(latent_dim,), name="noise")
    x = inputs
    if dense_units:
        x = keras.layers.Dense(dense_units, use_bias=False, name="hidden")(x)
        x = keras.layers.BatchNormalization(name="bn_hidden")(x)
        x = keras.layers.ReLU(name="relu_hidden")(x)
    x = keras.layers.Dense((height // 4) * (width // 4) * 4 * base_filters, use_bias=False, name="project")(x)
    x = keras.layers.BatchNormalization(name="bn0")(x)
    x = keras.layers.ReLU(name="relu0")(x)
    x = keras.layers.Reshape((height // 4, width // 4, 4 * base_filters), name="reshape")(x)
    for i, filters in enumerate((2 * base_filters, base_filters), start=1):
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, name=f"up{i}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
    outputs = keras.layers.Conv2D(channels, 4, padding="same", activation="tanh", name="to_image")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(
    image_shape=(28, 28, 1), *, base_filters=64, dense_units=256, dropout=0.0, seed=None, name="discriminator"
):
    """The DCGAN discriminator: images in [-1, 1] -> one logit ("real" when positive).

    Two stride-2 4x4 convolutions with leaky ReLU (slope 0.2), then
    ``Dense(dense_units)`` with batch normalisation and leaky ReLU, then
    ``Dense(1)`` (Radford et al. 2016; the dense layer as in TF-GAN's MNIST
    example).  The batch normalisation sits in the dense layer, where it sees
    one vector per image, not in the convolutions.

    Parameters
    ----------
    image_shape : (int, int, int)
        Shape of one image.
    base_filters : int
        Filters of the first convolution (the second has twice as many).
    dense_units : int
        Units of the hidden dense layer (0 for none: the logit is read straight
        off the flattened feature maps).
    dropout : float
        Dropout rate after each convolution block (0, the default, disables it).
    seed : int, optional
        Seed Keras before the weights are created.
    name : str
        The model's name.

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> build_discriminator(base_filters=4, dense_units=8).output_shape
    (None, 1)
    """
    import keras

    image_shape = _check_image_shape(image_shape)
    base_filters = _validation.check_int("base_filters", base_filters, minimum=1)
    dense_units = _validation.check_int("dense_units", dense_units, minimum=0)
    dropout = _validation.check_float("dropout", dropout, minimum=0.0, maximum=0.99)
    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))
    inputs = keras.Input(shape=image_shape, name="image")
    x = inputs
    for i, filters in enumerate((base_filters, 2 * base_filters), start=1):
        x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", name=f"conv{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"lrelu{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"drop{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, use_bias=False, name="hidden")(x)
        x = keras.layers.BatchNormalization(name="bn_hidden")(x)
        x = keras.layers.LeakyReLU(0.2, name="lrelu_hidden")(x)
    outputs = keras.layers.Dense(1, name="logit")(x)
    return keras.Model(inputs, outputs, name=name)


def _dcgan_base():
    import keras
    import tensorflow as tf

    class DCGAN(keras.Model):
        """A generator and a discriminator trained against each other by ``fit``.

        Parameters
        ----------
        generator, discriminator : keras.Model
            From :func:`build_generator` and :func:`build_discriminator`.
        latent_dim : int
            Size of the noise vector (the generator's input).
        seed : int
            Seed of the noise drawn in ``train_step``.

        Notes
        -----
        ``fit`` takes batches of real images in [-1, 1].  It reports
        ``d_loss`` (discriminator), ``g_loss`` (generator) and ``d_real``,
        ``d_fake``, the discriminator's mean probability of "real" on real
        and on generated images.
        """

        def __init__(self, generator, discriminator, latent_dim, seed=0, **kwargs):
            super().__init__(**kwargs)
            self.generator = generator
            self.discriminator = discriminator
            self.latent_dim = int(latent_dim)
            self.noise_seed = keras.random.SeedGenerator(seed)
            self.epoch_counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch_counter")

        def compile(self, d_optimizer, g_optimizer, *, label_smoothing=0.1):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.label_smoothing = float(label_smoothing)
            self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
            self.trackers = {name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss", "d_real", "d_fake")}

        @property
        def metrics(self):
            return list(self.trackers.values())

        def call(self, noise, training=False):
            return self.generator(noise, training=training)

        def train_step(self, real):
            if isinstance(real, tuple):
                real = real[0]
            batch = tf.shape(real)[0]
            noise = keras.random.normal((batch, self.latent_dim), seed=self.noise_seed)
            # One forward pass serves both losses; each network then takes a
            # step on its own loss (simultaneous updates, as in TensorFlow's
            # DCGAN tutorial), which saves a second pass through both networks.
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = self.generator(noise, training=True)
                real_logits = self.discriminator(real, training=True)
                fake_logits = self.discriminator(fake, training=True)
                # the discriminator: real -> 1 - smoothing, generated -> 0
                d_loss = self.bce(tf.fill(tf.shape(real_logits), 1.0 - self.label_smoothing), real_logits) + self.bce(
                    tf.zeros_like(fake_logits), fake_logits
                )
                # the generator: make the discriminator say "real" (non-saturating loss)
                g_loss = self.bce(tf.ones_like(fake_logits), fake_logits)
            d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_weights)
            g_grads = g_tape.gradient(g_loss, self.generator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))
            self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
            for name, value in (
                ("d_loss", d_loss),
                ("g_loss", g_loss),
                ("d_real", tf.reduce_mean(tf.sigmoid(real_logits))),
                ("d_fake", tf.reduce_mean(tf.sigmoid(fake_logits))),
            ):
                self.trackers[name].update_state(value)
            return {name: tracker.result() for name, tracker in self.trackers.items()}

    return DCGAN


_DCGAN_CLASS = None


def _dcgan_class():
    global _DCGAN_CLASS
    if _DCGAN_CLASS is None:
        _DCGAN_CLASS = _dcgan_base()
    return _DCGAN_CLASS


def __getattr__(name):
    # ``DCGAN`` is created on first use, so importing this module does not import Keras.
    if name == "DCGAN":
        return _dcgan_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_dcgan(
    latent_dim=64,
    image_shape=(28, 28, 1),
    *,
    generator_filters=32,
    discriminator_filters=64,
    dense_units=256,
    dropout=0.0,
    learning_rate=2e-4,
    beta_1=0.5,
    label_smoothing=0.1,
    seed=0,
):
    """Build and compile a ``DCGAN`` (Adam, learning rate 2e-4, beta_1 0.5, as Radford et al.).

    Parameters
    ----------
    latent_dim : int
        Size of the noise vector.
    image_shape : (int, int, int)
        Shape of one image.
    generator_filters, discriminator_filters : int
        ``base_filters`` of :func:`build_generator` and :func:`build_discriminator`.
    dense_units : int
        ``dense_units`` of both :func:`build_generator` and
        :func:`build_discriminator`.
    dropout : float
        Dropout of the discriminator.
    learning_rate, beta_1 : float
        Adam settings of both networks.
    label_smoothing : float
        The discriminator's target for real images is ``1 - label_smoothing``
        (one-sided label smoothing, Salimans et al. 2016).
    seed : int
        Seed of the weights and of the training noise.

    Returns
    -------
    DCGAN

    Examples
    --------
    >>> gan = build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8)
    >>> gan.generator.output_shape, gan.discriminator.output_shape
    ((None, 28, 28, 1), (None, 1))
    """
    import keras

    latent_dim = _validation.check_int("latent_dim", latent_dim, minimum=1)
    seed = _validation.check_int("seed", seed, minimum=0)
    label_smoothing = _validation.check_float("label_smoothing", label_smoothing, minimum=0.0, maximum=0.5)
    learning_rate = _validation.check_float("learning_rate", learning_rate, minimum=0.0)
    beta_1 = _validation.check_float("beta_1", beta_1, minimum=0.0, maximum=1.0)
    generator = build_generator(
        latent_dim, image_shape, base_filters=generator_filters, dense_units=dense_units, seed=seed
    )
    discriminator = build_discriminator(
        image_shape, base_filters=discriminator_filters, dense_units=dense_units, dropout=dropout, seed=seed + 1
    )
    gan = _dcgan_class()(generator, discriminator, latent_dim, seed=seed, name="dcgan")
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
        label_smoothing=label_smoothing,
    )
    return gan


def _callback_base():
    import keras

    return keras.callbacks.Callback


class SampleGrid:
    """Callback factory: the generator's images for a fixed noise batch after every epoch.

    ``SampleGrid(noise, directory=None)`` returns a Keras callback whose
    ``grids`` attribute is a dict ``epoch -> images`` (in [0, 1]); with a
    ``directory`` it also writes ``epoch_XXXX.npy`` there.  The same noise
    every epoch shows how one set of samples evolves.
    """

    def __new__(cls, noise, directory=None):
        base = _callback_base()

        class _SampleGrid(base):
            def __init__(self):
                super().__init__()
                self.noise = np.asarray(noise, dtype=np.float32)
                self.directory = None if directory is None else pathlib.Path(directory)
                self.grids = {}

            def on_epoch_end(self, epoch, logs=None):
                images = from_tanh_range(np.asarray(self.model.generator(self.noise, training=False)))
                self.grids[epoch + 1] = images.astype(np.float32)
                if self.directory is not None:
                    self.directory.mkdir(parents=True, exist_ok=True)
                    np.save(self.directory / f"epoch_{epoch + 1:04d}.npy", images.astype(np.float32))

        return _SampleGrid()


class GanCheckpoint:
    """Callback factory: a ``tf.train.CheckpointManager`` save after every epoch.

    The checkpoint holds both networks, both optimizers (their moments and
    step counts), the noise generator's state and the epoch counter, so
    :func:`restore_dcgan` puts a fresh ``DCGAN`` back exactly where the
    saved one was.
    """

    def __new__(cls, gan, directory, *, max_to_keep=2):
        base = _callback_base()
        manager = _checkpoint_manager(gan, directory, max_to_keep=max_to_keep)

        class _GanCheckpoint(base):
            def __init__(self):
                super().__init__()
                self.manager = manager

            def on_epoch_end(self, epoch, logs=None):
                gan.epoch_counter.assign(epoch + 1)
                self.manager.save(checkpoint_number=epoch + 1)

        return _GanCheckpoint()


def _checkpoint_manager(gan, directory, *, max_to_keep=2):
    import tensorflow as tf

    _build_optimizers(gan)
    checkpoint = tf.train.Checkpoint(
        generator=gan.generator,
        discriminator=gan.discriminator,
        g_optimizer=gan.g_optimizer,
        d_optimizer=gan.d_optimizer,
        noise_seed=gan.noise_seed.state,
        epoch=gan.epoch_counter,
    )
    return tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=max_to_keep)


def _build_optimizers(gan):
    """Create the optimizers' variables now, so a checkpoint can restore into them."""
    if not gan.g_optimizer.built:
        gan.g_optimizer.build(gan.generator.trainable_weights)
    if not gan.d_optimizer.built:
        gan.d_optimizer.build(gan.discriminator.trainable_weights)


def restore_dcgan(gan, directory):
    """Restore the latest checkpoint in ``directory`` into ``gan``; return the epoch it reached (0 if none)."""
    manager = _checkpoint_manager(gan, directory)
    if manager.latest_checkpoint is None:
        return 0
    manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    return int(gan.epoch_counter.numpy())


class GanRun(typing.NamedTuple):
    """What :func:`train_dcgan` returns."""

    #: The trained ``DCGAN`` (the object passed in).
    gan: typing.Any
    #: Per-epoch ``d_loss``, ``g_loss``, ``d_real``, ``d_fake`` of the epochs run by this call.
    history: dict
    #: ``epoch -> images`` in [0, 1]: the fixed-noise samples after each epoch run by this call.
    grids: dict
    #: The epoch the training started from (0, or where a checkpoint stopped).
    initial_epoch: int


def train_dcgan(gan, images, *, epochs, batch_size=64, seed=0, checkpoint_dir=None, grid_noise=None, callbacks=()):
    """Train a ``DCGAN`` on images in [0, 1] up to ``epochs`` epochs, resuming from a checkpoint.

    Parameters
    ----------
    gan : DCGAN
        From :func:`build_dcgan`.
    images : array_like
        Training images ``(n, height, width, channels)`` in [0, 1].
    epochs : int
        The epoch to train up to (counted from the very start, as ``fit``'s
        ``epochs`` with ``initial_epoch``).
    batch_size : int
        Images per step (the last, incomplete batch is dropped).
    seed : int
        Seed of the shuffle.
    checkpoint_dir : str or pathlib.Path, optional
        Where to keep checkpoints (outside the repository).  If it holds a
        checkpoint, training resumes from it.
    grid_noise : array_like, optional
        ``(k, latent_dim)`` noise for the per-epoch sample grid.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks.

    Returns
    -------
    GanRun

    Raises
    ------
    ValueError
        If the images are not a batch in [0, 1] of the generator's shape, or
        there are fewer images than ``batch_size``.
    """
    import tensorflow as tf

    epochs = _validation.check_int("epochs", epochs, minimum=1)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    seed = _validation.check_int("seed", seed, minimum=0)
    images = _validation.check_images("images", images)
    expected = tuple(gan.generator.output_shape[1:])
    if images.shape[1:] != expected:
        raise ValueError(f"`images` must have shape (n, {', '.join(map(str, expected))}); received {images.shape}.")
    if len(images) < batch_size:
        raise ValueError(f"`images` must hold at least `batch_size` ({batch_size}) images; received {len(images)}.")
    initial_epoch = 0
    extra = []
    if checkpoint_dir is not None:
        initial_epoch = restore_dcgan(gan, checkpoint_dir)
        extra.append(GanCheckpoint(gan, checkpoint_dir))
    grid = None
    if grid_noise is not None:
        grid = SampleGrid(grid_noise)
        extra.append(grid)
    history = {}
    if initial_epoch < epochs:
        dataset = (
            tf.data.Dataset.from_tensor_slices(to_tanh_range(images).astype(np.float32))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size, drop_remainder=True)
            .prefetch(2)
        )
        fit = gan.fit(
            dataset, epochs=epochs, initial_epoch=initial_epoch, verbose=0, shuffle=False, callbacks=[*extra, *callbacks]
        )
        history = {name: [float(v) for v in values] for name, values in fit.history.items()}
    return GanRun(gan=gan, history=history, grids={} if grid is None else grid.grids, initial_epoch=initial_epoch)


def generate(gan_or_generator, num_images, *, latent_dim=None, seed=0, batch_size=256):
    """Draw ``num_images`` images in [0, 1] from a DCGAN (or its generator) with seeded Gaussian noise."""
    generator = getattr(gan_or_generator, "generator", gan_or_generator)
    num_images = _validation.check_int("num_images", num_images, minimum=1)
    latent_dim = int(generator.input_shape[-1]) if latent_dim is None else latent_dim
    noise = np.random.default_rng(seed).standard_normal((num_images, latent_dim)).astype(np.float32)
    return from_tanh_range(np.asarray(generator.predict(noise, batch_size=batch_size, verbose=0))).astype(np.float32)
