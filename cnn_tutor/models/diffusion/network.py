"""The denoising network: the Reconstruction chapter's U-Net, told the noise level and the class.

- :class:`SinusoidalEmbedding`: a time ``t`` in [0, 1] as sines and cosines
  of geometrically spaced frequencies (the position encoding of Vaswani et
  al. 2017, as used by Ho et al. 2020 for the diffusion step);
- :func:`conditioning_embedding`: that embedding through a small MLP, plus a
  learned vector per class (and one for "no class", for classifier-free
  guidance);
- :func:`unet_block`, :func:`encoder_level`, :func:`decoder_level`: the
  blocks of the Reconstruction chapter's U-Net (two 3x3 convolutions per
  level, 2x2 max pooling down, a 2x2 transposed convolution up, the skip
  concatenated), with the embedding projected to each block's filters and
  added after its first convolution;
- :func:`build_denoising_unet`: the whole network, ``(noisy image, time[,
  label]) -> prediction`` (the velocity of a flow, or the noise of a
  diffusion: the network does not know which).
"""

import math

import keras
import numpy as np

from cnn_tutor import _devices, _validation

__all__ = [
    "FiLM",
    "default_dtype_policy",
    "SinusoidalEmbedding",
    "build_denoising_unet",
    "conditioning_embedding",
    "decoder_level",
    "encoder_level",
    "unet_block",
]


@keras.saving.register_keras_serializable(package="cnn_tutor")
class SinusoidalEmbedding(keras.layers.Layer):
    """Embed a scalar time ``t`` in [0, 1] as ``[sin(w_i s t), cos(w_i s t)]``.

    The ``dim // 2`` frequencies ``w_i = max_period ** (-i / (dim // 2))``
    run geometrically from 1 down to ``1 / max_period``, and ``scale``
    stretches ``t`` (1000, so that ``t = k / 1000`` for the diffusion step
    ``k`` gives Ho et al.'s embedding of ``k``).  Nearby times get nearby
    vectors, and a dense layer after it can tell times 0.001 apart.

    Parameters
    ----------
    dim : int
        Output size (even, >= 2).
    scale : float
        Multiplies ``t`` before the sines.
    max_period : float
        The longest period, in units of ``scale * t``.

    Notes
    -----
    The input is a batch of times, shape ``(batch,)`` or ``(batch, 1)``;
    the output has shape ``(batch, dim)``.

    Examples
    --------
    With ``dim=4`` and ``max_period=100`` the frequencies are 1 and 0.1:

    >>> layer = SinusoidalEmbedding(4, scale=1.0, max_period=100.0)
    >>> np.round(np.asarray(layer(np.array([0.0, 1.0], dtype="float32"))), 4)  # sin 1, sin 0.1, cos 1, cos 0.1
    array([[0.    , 0.    , 1.    , 1.    ],
           [0.8415, 0.0998, 0.5403, 0.995 ]], dtype=float32)
    """

    def __init__(self, dim, *, scale=1000.0, max_period=10_000.0, **kwargs):
        super().__init__(**kwargs)
        dim = _validation.check_int("dim", dim, minimum=2)
        if dim % 2:
            raise ValueError(f"`dim` must be even (a sine and a cosine per frequency); received {dim}.")
        self.dim = dim
        self.scale = _validation.check_float("scale", scale, minimum=0.0)
        self.max_period = _validation.check_float("max_period", max_period, minimum=1.0)
        half = dim // 2
        self._frequencies = np.exp(-math.log(self.max_period) * np.arange(half) / half).astype("float32")

    def call(self, t):
        t = keras.ops.reshape(keras.ops.cast(t, "float32"), (-1, 1))
        angles = t * (self.scale * keras.ops.convert_to_tensor(self._frequencies))[None, :]
        return keras.ops.concatenate([keras.ops.sin(angles), keras.ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "scale": self.scale, "max_period": self.max_period}


@keras.saving.register_keras_serializable(package="cnn_tutor")
class FiLM(keras.layers.Layer):
    """Feature-wise modulation: ``features * (1 + scale) + shift``, one scale and shift per channel and image.

    Input: ``[features (batch, h, w, c), scale (batch, c), shift (batch, c)]``.

    Examples
    --------
    >>> out = FiLM()([np.ones((1, 2, 2, 2), "float32"), np.array([[1.0, 0.0]], "float32"), np.array([[0.0, 3.0]], "float32")])
    >>> np.asarray(out)[0, 0, 0].tolist()
    [2.0, 4.0]
    """

    def call(self, inputs):
        features, scale, shift = inputs
        return features * (1.0 + scale[:, None, None, :]) + shift[:, None, None, :]

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])


def conditioning_embedding(time, label=None, *, embedding_dim, num_classes=None, activation="silu", dtype=None):
    """One vector per image that tells every block the time (and the class).

    ``dense(act(dense(sinusoidal(t))))``, plus a learned vector for the
    label (``num_classes + 1`` rows: the last one means "no label", which
    classifier-free guidance trains by dropping labels), then ``act``.  The
    label vectors start as draws from N(0, 1), as large as the time's: with
    Keras's default embedding initialiser (uniform in +-0.05) the network
    learns to ignore the label for hundreds of steps.

    Parameters
    ----------
    time : keras.KerasTensor
        ``(batch,)`` times in [0, 1].
    label : keras.KerasTensor, optional
        ``(batch,)`` integer labels in ``[0, num_classes]``.
    embedding_dim : int
        Size of the vector.
    num_classes : int, optional
        Number of classes; required with ``label``.
    activation : str
        Keras activation between the layers.
    dtype : str or keras.DTypePolicy, optional
        Dtype policy of the dense layers (the sinusoids are always float32).

    Returns
    -------
    keras.KerasTensor
        ``(batch, embedding_dim)``.
    """
    e = SinusoidalEmbedding(embedding_dim, name="time_sinusoids", dtype="float32")(time)
    e = keras.layers.Dense(embedding_dim, activation=activation, name="time_dense1", dtype=dtype)(e)
    e = keras.layers.Dense(embedding_dim, name="time_dense2", dtype=dtype)(e)
    if label is not None:
        c = keras.layers.Embedding(
            num_classes + 1,
            embedding_dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="label_embedding",
            dtype=dtype,
        )(label)
        e = keras.layers.Add(name="time_plus_label", dtype=dtype)([e, c])
    return keras.layers.Activation(activation, name="conditioning", dtype=dtype)(e)


def unet_block(x, filters, *, name, embedding=None, activation="relu", dtype=None):
    """Two 3x3 convolutions (the U-Net's block), the conditioning applied between them.

    Without ``embedding`` this is exactly the block of
    :func:`cnn_tutor.models.restoration.build_unet` (layers ``{name}_a`` and
    ``{name}_b``).  With it, two dense layers map the embedding to a scale
    and a shift per filter (FiLM, Perez et al. 2018), applied to every pixel
    of the first convolution's output before its activation,
    ``h * (1 + scale) + shift``: the same filters then respond differently
    at each noise level and class.  The scale starts at 0.

    Parameters
    ----------
    x : keras.KerasTensor
        ``(batch, height, width, channels)``.
    filters : int
        Filters of both convolutions.
    name : str
        Prefix of the layer names.
    embedding : keras.KerasTensor, optional
        ``(batch, embedding_dim)`` from :func:`conditioning_embedding`.
    activation : str
        Activation after each convolution.
    dtype : str or keras.DTypePolicy, optional
        Dtype policy of the layers (for example ``"mixed_bfloat16"``).

    Returns
    -------
    keras.KerasTensor
        ``(batch, height, width, filters)``.
    """
    if embedding is None:
        x = keras.layers.Conv2D(filters, 3, padding="same", activation=activation, name=f"{name}_a", dtype=dtype)(x)
    else:
        x = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_a", dtype=dtype)(x)
        scale = keras.layers.Dense(filters, kernel_initializer="zeros", name=f"{name}_scale", dtype=dtype)(embedding)
        shift = keras.layers.Dense(filters, name=f"{name}_shift", dtype=dtype)(embedding)
        x = FiLM(name=f"{name}_film", dtype=dtype)([x, scale, shift])
        x = keras.layers.Activation(activation, name=f"{name}_a_act", dtype=dtype)(x)
    return keras.layers.Conv2D(filters, 3, padding="same", activation=activation, name=f"{name}_b", dtype=dtype)(x)


def encoder_level(x, filters, level, *, embedding=None, activation="relu", dtype=None):
    """A block, kept as the skip, then 2x2 max pooling; returns ``(pooled, skip)``."""
    skip = unet_block(x, filters, name=f"down{level}", embedding=embedding, activation=activation, dtype=dtype)
    return keras.layers.MaxPooling2D(2, name=f"pool{level}", dtype=dtype)(skip), skip


def decoder_level(x, skip, filters, level, *, embedding=None, activation="relu", dtype=None):
    """A 2x2 transposed convolution up, the skip concatenated (if given), then a block."""
    x = keras.layers.Conv2DTranspose(filters, 2, strides=2, padding="same", name=f"up{level}", dtype=dtype)(x)
    if skip is not None:
        x = keras.layers.Concatenate(name=f"skip{level}", dtype=dtype)([x, skip])
    return unet_block(x, filters, name=f"dec{level}", embedding=embedding, activation=activation, dtype=dtype)


def default_dtype_policy(*, gpu=False, cpu_flags=None):
    """``"mixed_bfloat16"`` where bfloat16 arithmetic is native, else ``None`` (float32).

    Native means a GPU (``gpu=True``) or a CPU that advertises the
    ``avx512_bf16`` or ``amx_bf16`` instructions (read from
    ``/proc/cpuinfo`` on Linux).  There the convolutions of this small U-Net
    run about 1.3x (training) to 2x (sampling) faster in bfloat16; on CPUs
    without them, bfloat16 is emulated and slower than float32.

    Parameters
    ----------
    gpu : bool
        Whether the model will run on a GPU (``bool(rt.gpus)``).
    cpu_flags : str, optional
        The CPU's flags; default: read them from ``/proc/cpuinfo``.

    Returns
    -------
    str or None
        A policy for :func:`build_denoising_unet`'s ``dtype``.

    Examples
    --------
    >>> default_dtype_policy(cpu_flags="fpu avx2 avx512f"), default_dtype_policy(cpu_flags="avx2 amx_bf16")
    (None, 'mixed_bfloat16')
    """
    if gpu:
        return "mixed_bfloat16"
    flags = None if cpu_flags is None else cpu_flags.split()
    return "mixed_bfloat16" if _devices.bfloat16_flags(flags) else None


def build_denoising_unet(
    image_shape=(28, 28, 1),
    *,
    num_filters=16,
    levels=2,
    embedding_dim=128,
    num_classes=None,
    activation="silu",
    dtype=None,
    seed=None,
    name="denoising_unet",
):
    """The Reconstruction chapter's U-Net, conditioned on the time and (optionally) the class.

    Inputs are ``[noisy, time]`` or, with ``num_classes``, ``[noisy, time,
    label]``, where ``label == num_classes`` means "no label".  The encoder
    has ``levels`` levels of :func:`encoder_level` with ``num_filters * 2**l``
    filters, a bottom block, and ``levels`` levels of :func:`decoder_level`;
    every block receives the :func:`conditioning_embedding`.  The output is a
    linear 1x1 convolution (no activation: a velocity or a noise is not
    bounded), initialised to zero so that training starts from the
    prediction 0, and computed in float32 whatever ``dtype`` says.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, channels)``; height and width divisible by
        ``2**levels``.
    num_filters : int
        Filters at full resolution (doubled at each level).
    levels : int
        Number of 2x downsamplings (>= 1).
    embedding_dim : int
        Size of the time (and class) embedding (even).
    num_classes : int, optional
        Condition on a class label as well (>= 2).
    activation : str
        Activation of the convolutions and of the embedding (SiLU,
        ``x * sigmoid(x)``, as in Ho et al. 2020; the Reconstruction
        chapter's U-Net uses ReLU).
    dtype : str, optional
        Dtype policy of the hidden layers, for example ``"mixed_bfloat16"``
        (compute in bfloat16, keep float32 weights); default: Keras's global
        policy.
    seed : int, optional
        Seed Keras before the weights are created; default: the runtime's
        seed (:func:`cnn_tutor.setup`), or 0.
    name : str
        The model's name.

    Returns
    -------
    keras.Model
        ``(batch, height, width, channels)`` prediction, same shape as the
        noisy input.

    Raises
    ------
    ValueError
        If the image size is not divisible by ``2**levels``, or an argument
        is out of range.

    Examples
    --------
    >>> net = build_denoising_unet(num_filters=4, embedding_dim=8, num_classes=10, seed=0)
    >>> [tuple(i.shape) for i in net.inputs]
    [(None, 28, 28, 1), (None,), (None,)]
    >>> x = np.zeros((2, 28, 28, 1), "float32")
    >>> out = net([x, np.array([0.5, 1.0], "float32"), np.array([3, 10])])
    >>> tuple(out.shape), float(np.abs(np.asarray(out)).max())  # zero-initialised output layer
    ((2, 28, 28, 1), 0.0)
    >>> build_denoising_unet((30, 30, 1))
    Traceback (most recent call last):
    ...
    ValueError: `image_shape` must have a height and width divisible by 2**levels = 4; received (30, 30, 1). Pad the images (28x28 digits allow levels=2).
    """
    from cnn_tutor.models.diffusion import _common

    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3:
        raise ValueError(f"`image_shape` must be (height, width, channels), e.g. (28, 28, 1); received {image_shape!r}.")
    image_shape = tuple(_validation.check_int(f"image_shape[{i}]", v, minimum=1) for i, v in enumerate(image_shape))
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    levels = _validation.check_int("levels", levels, minimum=1)
    embedding_dim = _validation.check_int("embedding_dim", embedding_dim, minimum=2)
    if embedding_dim % 2:
        raise ValueError(f"`embedding_dim` must be even; received {embedding_dim}.")
    if num_classes is not None:
        num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
    factor = 2**levels
    if image_shape[0] % factor or image_shape[1] % factor:
        raise ValueError(
            f"`image_shape` must have a height and width divisible by 2**levels = {factor}; received {image_shape}. "
            "Pad the images (28x28 digits allow levels=2)."
        )
    keras.utils.set_random_seed(_common.resolve_seed(seed))

    noisy = keras.Input(shape=image_shape, name="noisy")
    time = keras.Input(shape=(), name="time")
    inputs = [noisy, time]
    label = None
    if num_classes is not None:
        label = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(label)
    embedding = conditioning_embedding(
        time, label, embedding_dim=embedding_dim, num_classes=num_classes, activation=activation, dtype=dtype
    )
    options = dict(embedding=embedding, activation=activation, dtype=dtype)
    x, skips = noisy, []
    for level in range(levels):
        x, skip = encoder_level(x, num_filters * 2**level, level, **options)
        skips.append(skip)
    x = unet_block(x, num_filters * 2**levels, name="bottom", **options)
    for level in reversed(range(levels)):
        x = decoder_level(x, skips[level], num_filters * 2**level, level, **options)
    outputs = keras.layers.Conv2D(
        image_shape[-1], 1, kernel_initializer="zeros", name="prediction", dtype="float32"
    )(x)
    return keras.Model(inputs, outputs, name=name)
