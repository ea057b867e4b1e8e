"""A deep convolutional GAN (DCGAN) for 28x28 digits, on any Keras backend.

The generator (生成器) maps a noise vector to an image with transposed
convolutions and batch normalisation; the discriminator (判别器) is a
convolutional classifier "real or generated".  :class:`DCGAN` is a
``keras.Model`` that overrides ``train_step`` to train both networks at once
(Goodfellow et al. 2014, architecture after Radford et al. 2016):

- the discriminator minimises the binary cross-entropy of real images
  (label ``1 - label_smoothing``) and generated ones (label 0);
- the generator minimises the *non-saturating* loss ``-log D(G(z))``.

One forward pass serves both losses, and each network takes an Adam step on
its own loss (simultaneous updates).  Both networks share one Adam optimizer:
Adam updates every weight from its own gradient and moments, so one optimizer
over both networks is the same as one per network with the same settings; a
smaller learning rate for the discriminator scales its update (Adam's step is
proportional to the learning rate), as a second optimizer would.
``train_step`` is written for the TensorFlow backend (``tf.GradientTape``)
and for JAX (``jax.vjp`` on a stateless pass); both compute the same losses
(:meth:`DCGAN.losses_of`), and the tests check they agree.  PyTorch is not
supported (the step raises a clear error).

Images enter and leave in the book's convention ([0, 1]); the networks work
in the tanh range [-1, 1] (:func:`to_tanh_range`, :func:`from_tanh_range`).
Training, with a per-epoch sample grid and checkpoints that resume, is
:func:`cnn_tutor.models.training.train_dcgan`.

Used by the Generation chapter.
"""

import keras
import numpy as np

from cnn_tutor import _validation, runtime
from cnn_tutor.models._common import seed_weights

__all__ = [
    "DCGAN",
    "build_dcgan",
    "build_discriminator",
    "build_generator",
    "from_tanh_range",
    "generate",
    "to_tanh_range",
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


def build_generator(
    latent_dim=64,
    image_shape=(28, 28, 1),
    *,
    base_filters=32,
    dense_units=256,
    extra_convs=0,
    seed=None,
    name="generator",
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
    extra_convs : int
        Extra 3x3 stride-1 convolutions (each with batch normalisation and
        ReLU) after each transposed convolution, at its resolution: a deeper
        generator for the "more layers" ablation (0: the DCGAN of the chapter).
    seed : int, optional
        Seed of the initial weights (``None``: the runtime's seed).
    name : str
        The model's name.

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> build_generator(latent_dim=8, base_filters=4, dense_units=16).output_shape
    (None, 28, 28, 1)
    >>> deeper = build_generator(latent_dim=8, base_filters=4, dense_units=0, extra_convs=1)
    >>> [layer.name for layer in deeper.layers if layer.name.startswith("conv")]
    ['conv1_1', 'conv2_1']
    """
    latent_dim = _validation.check_int("latent_dim", latent_dim, minimum=1)
    height, width, channels = _validation.check_shape3("image_shape", image_shape, divisible_by=4)
    base_filters = _validation.check_int("base_filters", base_filters, minimum=1)
    dense_units = _validation.check_int("dense_units", dense_units, minimum=0)
    extra_convs = _validation.check_int("extra_convs", extra_convs, minimum=0)
    seed_weights(seed)
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
        for j in range(1, extra_convs + 1):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}_{j}")(x)
            x = keras.layers.BatchNormalization(name=f"bn{i}_{j}")(x)
            x = keras.layers.ReLU(name=f"relu{i}_{j}")(x)
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
        Seed of the initial weights (``None``: the runtime's seed).
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
    image_shape = _validation.check_shape3("image_shape", image_shape, divisible_by=4)
    base_filters = _validation.check_int("base_filters", base_filters, minimum=1)
    dense_units = _validation.check_int("dense_units", dense_units, minimum=0)
    dropout = _validation.check_float("dropout", dropout, minimum=0.0, maximum=0.99)
    seed_weights(seed)
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


@keras.saving.register_keras_serializable(package="cnn_tutor")
class DCGAN(keras.Model):
    """A generator and a discriminator trained against each other by ``fit``.

    Parameters
    ----------
    generator, discriminator : keras.Model
        From :func:`build_generator` and :func:`build_discriminator`.
    label_smoothing : float
        The discriminator's target for real images is ``1 - label_smoothing``
        (one-sided label smoothing, Salimans et al. 2016); fakes keep 0.
    discriminator_lr_scale : float
        The discriminator's learning rate relative to the optimizer's (the
        generator's): its update is multiplied by this.
    seed : int, optional
        Seed of the noise drawn in ``train_step`` (``None``: the runtime's).
    **kwargs
        Passed to ``keras.Model`` (``name``).

    Notes
    -----
    Compile it with one optimizer (``compile(optimizer=keras.optimizers.Adam(...))``);
    ``fit`` takes batches of real images in [0, 1] and reports ``d_loss``
    (discriminator), ``g_loss`` (generator) and ``d_real``, ``d_fake``, the
    discriminator's mean probability of "real" on real and on generated
    images.  Calling the model on noise returns generated images in [-1, 1].
    """

    def __init__(self, generator, discriminator, *, label_smoothing=0.1, discriminator_lr_scale=1.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.input_shape[-1])
        self.label_smoothing = _validation.check_float("label_smoothing", label_smoothing, minimum=0.0, maximum=0.5)
        self.discriminator_lr_scale = _validation.check_float("discriminator_lr_scale", discriminator_lr_scale,
                                                              minimum=0.0)
        self.seed = runtime.resolve_seed(seed)
        self.noise_seed = keras.random.SeedGenerator(self.seed)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        # Both networks are built functional models; the DCGAN has no weights of its own. (Without this,
        # fit would try to build it by calling it on a batch of images, which is not its input.)
        self.built = True

    @property
    def metrics(self):
        """The four trackers ``fit`` reports."""
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def call(self, noise, training=False):
        """Generated images in [-1, 1] for a noise batch."""
        return self.generator(noise, training=training)

    def losses_of(self, real, noise):
        """The two losses and the discriminator's logits for real images in [0, 1] and a noise batch.

        Returns
        -------
        (d_loss, g_loss, real_logits, fake_logits)
            ``d_loss = BCE(1 - s, D(real)) + BCE(0, D(G(noise)))`` and
            ``g_loss = BCE(1, D(G(noise)))``, with ``s`` the label smoothing.
        """
        ops = keras.ops
        real = real * 2.0 - 1.0  # the networks work in the tanh range
        fake = self.generator(noise, training=True)
        real_logits = self.discriminator(real, training=True)
        fake_logits = self.discriminator(fake, training=True)
        # the discriminator: real -> 1 - smoothing, generated -> 0
        d_loss = self.bce(ops.full_like(real_logits, 1.0 - self.label_smoothing), real_logits) + self.bce(
            ops.zeros_like(fake_logits), fake_logits
        )
        # the generator: make the discriminator say "real" (non-saturating loss)
        g_loss = self.bce(ops.ones_like(fake_logits), fake_logits)
        return d_loss, g_loss, real_logits, fake_logits

    def _noise_for(self, real):
        return keras.random.normal((keras.ops.shape(real)[0], self.latent_dim), seed=self.noise_seed)

    def _report(self, d_loss, g_loss, real_logits, fake_logits):
        ops = keras.ops
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, *args):
        """One simultaneous step of both networks: the TensorFlow or the JAX version, by backend."""
        backend = keras.backend.backend()
        if backend == "tensorflow":
            return self._train_step_tensorflow(*args)
        if backend == "jax":
            return self._train_step_jax(*args)
        raise RuntimeError(
            f"DCGAN.train_step is written for the TensorFlow and JAX backends; this process runs {backend!r}. "
            "Run with KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax."
        )

    def _train_step_tensorflow(self, data):
        import tensorflow as tf

        real = data[0] if isinstance(data, tuple) else data
        noise = self._noise_for(real)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            d_loss, g_loss, real_logits, fake_logits = self.losses_of(real, noise)
        g_vars, d_vars = self.generator.trainable_weights, self.discriminator.trainable_weights
        g_grads = g_tape.gradient(g_loss, g_vars)
        d_grads = d_tape.gradient(d_loss, d_vars)
        scale = self.discriminator_lr_scale
        before = [tf.identity(v.value) for v in d_vars] if scale != 1.0 else None
        self.optimizer.apply([*g_grads, *d_grads], [*g_vars, *d_vars])
        if before is not None:  # the discriminator's own learning rate: scale its step
            for variable, old in zip(d_vars, before):
                variable.assign(old + scale * (variable.value - old))
        return self._report(d_loss, g_loss, real_logits, fake_logits)

    def _train_step_jax(self, state, data):
        import jax

        trainable, non_trainable, optimizer_variables, metrics_variables = state
        real = data[0] if isinstance(data, tuple) else data

        def forward(trainable_values):
            mapping = [*zip(self.trainable_variables, trainable_values), *zip(self.non_trainable_variables, non_trainable)]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                d_loss, g_loss, real_logits, fake_logits = self.losses_of(real, self._noise_for(real))
            updated = [scope.get_current_value(v) for v in self.non_trainable_variables]
            updated = [old if new is None else new for old, new in zip(non_trainable, updated)]
            return (d_loss, g_loss), (real_logits, fake_logits, updated)

        (d_loss, g_loss), pullback, (real_logits, fake_logits, non_trainable) = jax.vjp(forward, trainable, has_aux=True)
        (d_grads,) = pullback((keras.ops.ones_like(d_loss), keras.ops.zeros_like(g_loss)))
        (g_grads,) = pullback((keras.ops.zeros_like(d_loss), keras.ops.ones_like(g_loss)))
        # Each network's gradient comes from its own loss.
        generator_ids = {id(v) for v in self.generator.trainable_variables}
        grads = [g if id(v) in generator_ids else d for v, g, d in zip(self.trainable_variables, g_grads, d_grads)]
        updated, optimizer_variables = self.optimizer.stateless_apply(optimizer_variables, grads, trainable)
        scale = self.discriminator_lr_scale
        if scale != 1.0:  # the discriminator's own learning rate: scale its step
            updated = [new if id(v) in generator_ids else old + scale * (new - old)
                       for v, old, new in zip(self.trainable_variables, trainable, updated)]
        trainable = updated
        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, metrics_variables))) as scope:
            logs = self._report(d_loss, g_loss, real_logits, fake_logits)
        metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]
        return logs, (trainable, non_trainable, optimizer_variables, metrics_variables)

    def get_config(self):
        """The configuration: the two networks (serialised), label smoothing, learning-rate scale, seed."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "label_smoothing": self.label_smoothing,
            "discriminator_lr_scale": self.discriminator_lr_scale,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuild the DCGAN from :meth:`get_config` (the networks first)."""
        config = dict(config)
        generator = keras.saving.deserialize_keras_object(config.pop("generator"))
        discriminator = keras.saving.deserialize_keras_object(config.pop("discriminator"))
        return cls(generator, discriminator, **config)


def build_dcgan(
    latent_dim=64,
    image_shape=(28, 28, 1),
    *,
    generator_filters=32,
    discriminator_filters=64,
    dense_units=256,
    generator_dense_units=None,
    generator_extra_convs=0,
    dropout=0.0,
    learning_rate=2e-4,
    discriminator_learning_rate=None,
    beta_1=0.5,
    label_smoothing=0.1,
    seed=None,
):
    """Build and compile a :class:`DCGAN` (Adam, learning rate 2e-4, beta_1 0.5, as Radford et al.).

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
    generator_dense_units : int, optional
        The generator's own ``dense_units`` (default: ``dense_units``), to
        change the generator and keep the discriminator.
    generator_extra_convs : int
        ``extra_convs`` of :func:`build_generator`.
    dropout : float
        Dropout of the discriminator.
    learning_rate, beta_1 : float
        Settings of the Adam optimizer of both networks.
    discriminator_learning_rate : float, optional
        A different learning rate for the discriminator (default:
        ``learning_rate``).
    label_smoothing : float
        The discriminator's target for real images is ``1 - label_smoothing``
        (one-sided label smoothing, Salimans et al. 2016).
    seed : int, optional
        Seed of the weights (the discriminator's is ``seed + 1``) and of the
        training noise (``None``: the runtime's seed).

    Returns
    -------
    DCGAN

    Examples
    --------
    >>> gan = build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8)
    >>> gan.generator.output_shape, gan.discriminator.output_shape
    ((None, 28, 28, 1), (None, 1))
    """
    latent_dim = _validation.check_int("latent_dim", latent_dim, minimum=1)
    seed = runtime.resolve_seed(seed)
    learning_rate = _validation.check_float("learning_rate", learning_rate, minimum=0.0)
    if discriminator_learning_rate is None:
        discriminator_learning_rate = learning_rate
    discriminator_learning_rate = _validation.check_float("discriminator_learning_rate", discriminator_learning_rate,
                                                          minimum=0.0)
    beta_1 = _validation.check_float("beta_1", beta_1, minimum=0.0, maximum=1.0)
    if generator_dense_units is None:
        generator_dense_units = dense_units
    generator = build_generator(
        latent_dim,
        image_shape,
        base_filters=generator_filters,
        dense_units=generator_dense_units,
        extra_convs=generator_extra_convs,
        seed=seed,
    )
    discriminator = build_discriminator(
        image_shape, base_filters=discriminator_filters, dense_units=dense_units, dropout=dropout, seed=seed + 1
    )
    scale = discriminator_learning_rate / learning_rate if learning_rate > 0 else 1.0
    gan = DCGAN(generator, discriminator, label_smoothing=label_smoothing, discriminator_lr_scale=scale, seed=seed,
                name="dcgan")
    gan.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1))
    return gan


def generate(gan_or_generator, num_images, *, seed=None, batch_size=256):
    """Draw ``num_images`` images in [0, 1] from a DCGAN (or its generator) with seeded Gaussian noise.

    The noise is ``numpy.random.default_rng(seed).standard_normal((num_images,
    latent_dim))``, so the same seed gives the same noise, and the same
    images from the same generator.

    Parameters
    ----------
    gan_or_generator : DCGAN or keras.Model
        A DCGAN, or its generator.
    num_images : int
        How many images.
    seed : int, optional
        Seed of the noise (``None``: the runtime's seed).
    batch_size : int
        Images per forward pass.

    Returns
    -------
    numpy.ndarray
        float32 ``(num_images, height, width, channels)`` in [0, 1].

    Examples
    --------
    >>> generator = build_generator(latent_dim=4, base_filters=2, dense_units=0, seed=0)
    >>> generate(generator, 3, seed=1).shape
    (3, 28, 28, 1)
    """
    generator = getattr(gan_or_generator, "generator", gan_or_generator)
    num_images = _validation.check_int("num_images", num_images, minimum=1)
    latent_dim = int(generator.input_shape[-1])
    noise = np.random.default_rng(runtime.resolve_seed(seed)).standard_normal((num_images, latent_dim)).astype(np.float32)
    return from_tanh_range(np.asarray(generator.predict(noise, batch_size=batch_size, verbose=0))).astype(np.float32)
