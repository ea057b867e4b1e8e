"""Image restoration: denoising, inpainting (completion) and super-resolution networks.

Learned models and the classical baselines they must beat, side by side:

- denoising (去噪): :func:`build_conv_denoiser` (a plain stack of
  convolutions with a ``depth`` argument, optionally predicting the noise
  instead of the image) and :func:`build_unet` (a small U-Net with skip
  connections); baselines in :func:`classical_denoise` (Gaussian blur, median,
  total variation, non-local means, from ``scipy``/``skimage``);
- inpainting (补充/修复): :func:`build_inpainting_net`, which receives the
  image and the mask and only fills the hole; baselines in
  :func:`classical_inpaint` (mean fill, biharmonic);
- super-resolution (超分辨率): :func:`build_espcn`, convolutions at low
  resolution and a sub-pixel (depth-to-space) layer; baselines in
  :func:`upsample` (nearest, bilinear, bicubic).

:func:`train_restoration` fits any of them on ``(inputs, targets)`` arrays and
:func:`restore` applies one, clipped to [0, 1].

Used by the Reconstruction chapter.
"""

import numpy as np

from cnn_tutor import _validation
from cnn_tutor.models.classifier import TrainingRun, _epoch_timer

__all__ = [
    "DENOISERS",
    "INPAINTERS",
    "UPSAMPLERS",
    "build_conv_denoiser",
    "build_espcn",
    "build_inpainting_net",
    "build_unet",
    "classical_denoise",
    "classical_inpaint",
    "hole_psnr",
    "restore",
    "train_restoration",
    "upsample",
]

#: Classical denoisers of :func:`classical_denoise`.
DENOISERS = ("gaussian", "median", "tv", "nl_means")
#: Classical inpainting methods of :func:`classical_inpaint`.
INPAINTERS = ("mean", "biharmonic")
#: Interpolation methods of :func:`upsample`.
UPSAMPLERS = ("nearest", "bilinear", "bicubic")


def _channels(channels):
    return _validation.check_int("channels", channels, minimum=1)


def _compile(model, compile, learning_rate):
    import keras

    if compile:
        learning_rate = _validation.check_float("learning_rate", learning_rate)
        if learning_rate <= 0:
            raise ValueError(f"`learning_rate` must be > 0; received {learning_rate}.")
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mean_squared_error")
    return model


def _seed(seed):
    import keras

    if seed is not None:
        keras.utils.set_random_seed(_validation.check_int("seed", seed, minimum=0))


def build_conv_denoiser(
    channels=1,
    *,
    depth=5,
    num_filters=32,
    kernel_size=3,
    residual=True,
    compile=True,
    learning_rate=1e-3,
    seed=None,
    name=None,
):
    """A plain stack of ``depth`` same-size convolutions that removes noise.

    ``depth - 1`` convolutions with ``num_filters`` filters and ReLU, then one
    linear convolution back to ``channels``.  With ``residual=True`` the stack
    predicts the noise and the model returns ``input - noise`` (residual
    learning, as in DnCNN); otherwise it predicts the clean image directly.
    The model is fully convolutional: it accepts images of any size.

    Parameters
    ----------
    channels : int
        Channels of the images (1 for grey).
    depth : int
        Number of convolution layers (>= 1).  The receptive field is
        ``depth * (kernel_size - 1) + 1`` pixels wide.
    num_filters : int
        Filters of each hidden layer.
    kernel_size : int
        Square kernel size (odd).
    residual : bool
        Predict the noise and subtract it from the input.
    compile : bool
        Compile with Adam and the mean squared error.
    learning_rate : float
        Adam's learning rate.
    seed : int, optional
        Seed Keras before the weights are created.
    name : str, optional
        The model's name (default ``conv_denoiser_<depth>``).

    Returns
    -------
    keras.Model
        ``(batch, height, width, channels)`` -> same shape.

    Examples
    --------
    >>> model = build_conv_denoiser(depth=3, num_filters=8, seed=0)
    >>> len([layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"])
    3
    >>> build_conv_denoiser(depth=0)
    Traceback (most recent call last):
    ...
    ValueError: `depth` must be >= 1; received 0.
    """
    import keras

    channels = _channels(channels)
    depth = _validation.check_int("depth", depth, minimum=1)
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    kernel_size = _validation.check_int("kernel_size", kernel_size, minimum=1)
    if kernel_size % 2 == 0:
        raise ValueError(f"`kernel_size` must be odd, so the output stays centred; received {kernel_size}.")
    _seed(seed)
    inputs = keras.Input(shape=(None, None, channels), name="noisy")
    x = inputs
    for index in range(depth - 1):
        x = keras.layers.Conv2D(num_filters, kernel_size, padding="same", activation="relu", name=f"conv{index + 1}")(x)
    x = keras.layers.Conv2D(channels, kernel_size, padding="same", name=f"conv{depth}")(x)
    outputs = keras.layers.Subtract(name="minus_noise")([inputs, x]) if residual else x
    model = keras.Model(inputs, outputs, name=name or f"conv_denoiser_{depth}")
    return _compile(model, compile, learning_rate)


def build_unet(
    channels=1,
    *,
    num_filters=32,
    levels=2,
    full_resolution_skip=True,
    compile=True,
    learning_rate=1e-3,
    seed=None,
    name="unet",
):
    """A small U-Net: an encoder that halves the size ``levels`` times, a decoder, skips between them.

    Each level has two 3x3 convolutions (ReLU); the encoder downsamples with
    2x2 max pooling and doubles the filters, the decoder upsamples with a
    transposed convolution and concatenates the encoder's features of the
    same size (the skip connection) before its two convolutions.  The output
    is a sigmoid, so images stay in [0, 1].

    A skip at full resolution hands the decoder the noisy input itself: with
    a mean-squared-error loss and little training the network may copy it
    and learn the identity.  ``full_resolution_skip=False`` keeps only the
    skips at the coarser levels.

    Parameters
    ----------
    channels : int
        Channels of the images.
    num_filters : int
        Filters at full resolution (doubled at each level).
    levels : int
        Number of 2x downsamplings (>= 1); the image height and width must be
        divisible by ``2**levels`` (28 = 4 x 7 allows 2).
    full_resolution_skip : bool
        Keep the skip connection at the input's resolution.
    compile, learning_rate, seed, name
        As in :func:`build_conv_denoiser`.

    Returns
    -------
    keras.Model
        ``(batch, height, width, channels)`` -> same shape, in [0, 1].

    Examples
    --------
    >>> model = build_unet(num_filters=4, seed=0)
    >>> model(np.zeros((1, 28, 28, 1), dtype=np.float32)).shape
    TensorShape([1, 28, 28, 1])
    """
    import keras

    channels = _channels(channels)
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    levels = _validation.check_int("levels", levels, minimum=1)
    _seed(seed)

    def block(x, filters, label):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{label}_a")(x)
        return keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{label}_b")(x)

    inputs = keras.Input(shape=(None, None, channels), name="degraded")
    skips = []
    x = inputs
    for level in range(levels):
        x = block(x, num_filters * 2**level, f"down{level}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{level}")(x)
    x = block(x, num_filters * 2**levels, "bottom")
    for level in reversed(range(levels)):
        filters = num_filters * 2**level
        x = keras.layers.Conv2DTranspose(filters, 2, strides=2, padding="same", name=f"up{level}")(x)
        if level > 0 or full_resolution_skip:
            x = keras.layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = block(x, filters, f"dec{level}")
    outputs = keras.layers.Conv2D(channels, 1, name="image")(x)
    model = keras.Model(inputs, outputs, name=name)
    return _compile(model, compile, learning_rate)


def build_inpainting_net(
    channels=1,
    *,
    num_filters=32,
    dilation_rates=(1, 2, 4, 8),
    compile=True,
    learning_rate=1e-3,
    seed=None,
    name="inpainter",
):
    """A mask-aware encoder-decoder that fills the removed pixels and keeps the others.

    Inputs are the damaged image and its mask (1 where a pixel is missing),
    stacked as channels, so the network knows where the hole is.  The encoder
    halves the size once; dilated 3x3 convolutions at half size (rates
    ``dilation_rates``) see far across the hole without more downsampling; a
    transposed convolution returns to full size.  The output is composed as
    ``image * (1 - mask) + prediction * mask``: known pixels pass through
    untouched, and the loss only depends on the hole.

    Parameters
    ----------
    channels : int
        Channels of the images.
    num_filters : int
        Filters at full resolution (twice as many at half size).
    dilation_rates : sequence of int
        Dilation of each convolution at half size.
    compile, learning_rate, seed, name
        As in :func:`build_conv_denoiser`.

    Returns
    -------
    keras.Model
        Inputs ``[image (batch, h, w, channels), mask (batch, h, w, 1)]``
        with even ``h`` and ``w``; output ``(batch, h, w, channels)``.

    Examples
    --------
    >>> model = build_inpainting_net(num_filters=4, seed=0)
    >>> image, mask = np.ones((1, 8, 8, 1), "float32"), np.zeros((1, 8, 8, 1), "float32")
    >>> float(np.abs(model([image, mask]) - image).max())
    0.0
    """
    import keras

    channels = _channels(channels)
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    if not isinstance(dilation_rates, (tuple, list)) or not dilation_rates:
        raise ValueError(f"`dilation_rates` must be a non-empty sequence of ints; received {dilation_rates!r}.")
    rates = [_validation.check_int(f"dilation_rates[{i}]", r, minimum=1) for i, r in enumerate(dilation_rates)]
    _seed(seed)
    image = keras.Input(shape=(None, None, channels), name="image")
    mask = keras.Input(shape=(None, None, 1), name="mask")
    x = keras.layers.Concatenate(name="image_and_mask")([image, mask])
    x = keras.layers.Conv2D(num_filters, 3, padding="same", activation="relu", name="enc1")(x)
    x = keras.layers.Conv2D(2 * num_filters, 3, strides=2, padding="same", activation="relu", name="enc2")(x)
    for rate in rates:
        x = keras.layers.Conv2D(
            2 * num_filters, 3, padding="same", dilation_rate=rate, activation="relu", name=f"dilated{rate}"
        )(x)
    x = keras.layers.Conv2DTranspose(num_filters, 4, strides=2, padding="same", activation="relu", name="dec1")(x)
    prediction = keras.layers.Conv2D(channels, 3, padding="same", name="prediction")(x)
    keep = keras.layers.Lambda(lambda m: 1.0 - m, name="known")(mask)
    outputs = keras.layers.Add(name="composite")(
        [keras.layers.Multiply(name="known_part")([image, keep]), keras.layers.Multiply(name="filled")([prediction, mask])]
    )
    model = keras.Model([image, mask], outputs, name=name)
    return _compile(model, compile, learning_rate)


def _depth_to_space_layer():
    import keras
    import tensorflow as tf

    class DepthToSpace(keras.layers.Layer):
        """The sub-pixel layer: ``(h, w, c r^2)`` -> ``(h r, w r, c)`` (``tf.nn.depth_to_space``)."""

        def __init__(self, block_size, **kwargs):
            super().__init__(**kwargs)
            self.block_size = block_size

        def call(self, inputs):
            return tf.nn.depth_to_space(inputs, self.block_size)

        def get_config(self):
            return {**super().get_config(), "block_size": self.block_size}

    return DepthToSpace


def build_espcn(
    channels=1,
    *,
    upscale_factor=2,
    num_filters=(64, 32),
    kernel_sizes=(5, 3, 3),
    residual=False,
    compile=True,
    learning_rate=1e-3,
    seed=None,
    name="espcn",
):
    """ESPCN: convolutions on the small image, then a sub-pixel (depth-to-space) layer.

    Shi et al. (2016) compute every feature at low resolution and let the
    last convolution output ``channels * upscale_factor**2`` maps, which the
    depth-to-space layer rearranges into an image ``upscale_factor`` times
    larger.  With ``residual=True`` the network adds its output to a bicubic
    upsampling of the input, so it only learns the detail that bicubic
    interpolation misses (and starts from bicubic quality).

    Parameters
    ----------
    channels : int
        Channels of the images.
    upscale_factor : int
        Magnification (>= 2).
    num_filters : sequence of int
        Filters of the hidden convolutions (tanh).
    kernel_sizes : sequence of int
        Kernel size of each convolution: one more than ``num_filters`` (the
        last one makes the sub-pixel maps).
    residual : bool
        Add a bicubic upsampling of the input.
    compile, learning_rate, seed, name
        As in :func:`build_conv_denoiser`.

    Returns
    -------
    keras.Model
        ``(batch, h, w, channels)`` -> ``(batch, h * r, w * r, channels)``.

    Examples
    --------
    >>> model = build_espcn(upscale_factor=3, num_filters=(8,), kernel_sizes=(3, 3), seed=0)
    >>> model(np.zeros((1, 5, 7, 1), dtype=np.float32)).shape
    TensorShape([1, 15, 21, 1])
    >>> build_espcn(num_filters=(8,), kernel_sizes=(3,))
    Traceback (most recent call last):
    ...
    ValueError: `kernel_sizes` must have one entry more than `num_filters` (2); received (3,).
    """
    import keras

    channels = _channels(channels)
    factor = _validation.check_int("upscale_factor", upscale_factor, minimum=2)
    if not isinstance(num_filters, (tuple, list)):
        raise ValueError(f"`num_filters` must be a sequence of ints, e.g. (64, 32); received {num_filters!r}.")
    filters = [_validation.check_int(f"num_filters[{i}]", f, minimum=1) for i, f in enumerate(num_filters)]
    if not isinstance(kernel_sizes, (tuple, list)) or len(kernel_sizes) != len(filters) + 1:
        raise ValueError(
            f"`kernel_sizes` must have one entry more than `num_filters` ({len(filters) + 1}); "
            f"received {kernel_sizes!r}."
        )
    kernels = [_validation.check_int(f"kernel_sizes[{i}]", k, minimum=1) for i, k in enumerate(kernel_sizes)]
    _seed(seed)
    inputs = keras.Input(shape=(None, None, channels), name="low_resolution")
    x = inputs
    for index, (units, kernel) in enumerate(zip(filters, kernels)):
        x = keras.layers.Conv2D(units, kernel, padding="same", activation="tanh", name=f"conv{index + 1}")(x)
    x = keras.layers.Conv2D(channels * factor**2, kernels[-1], padding="same", name="subpixel_maps")(x)
    outputs = _depth_to_space_layer()(factor, name="depth_to_space")(x)
    if residual:
        bicubic = keras.layers.UpSampling2D(factor, interpolation="bicubic", name="bicubic")(inputs)
        outputs = keras.layers.Add(name="bicubic_plus_detail")([bicubic, outputs])
    model = keras.Model(inputs, outputs, name=name)
    return _compile(model, compile, learning_rate)


def train_restoration(model, inputs, targets, *, epochs, batch_size=32, validation=None, callbacks=(), strategy=None):
    """Fit a compiled restoration model on arrays, timing each epoch.

    Parameters
    ----------
    model : keras.Model
        A compiled model (from one of the ``build_*`` functions here).
    inputs : numpy.ndarray or list of numpy.ndarray
        Degraded images (and, for the inpainting net, ``[images, masks]``).
    targets : numpy.ndarray
        Clean images, shaped like the model's output.
    epochs : int
        Passes over the data (from ``rt.epochs(...)``).
    batch_size : int
        Images per step.
    validation : tuple, optional
        ``(inputs, targets)`` scored after each epoch.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks.
    strategy : tf.distribute.Strategy, optional
        Train data-parallel with this strategy (see
        :func:`cnn_tutor.distribute.make_strategy`); the model must have been
        built and compiled inside ``with strategy.scope():``, and
        ``batch_size`` is the global batch, split between the replicas.

    Returns
    -------
    cnn_tutor.models.classifier.TrainingRun
        ``(model, history, epoch_seconds)``.

    Raises
    ------
    TypeError
        If ``strategy`` is not a ``tf.distribute.Strategy``.
    ValueError
        If inputs and targets hold different numbers of images, or the model
        was not built under ``strategy.scope()``.
    """
    from cnn_tutor import distribute

    distribute.check_strategy(model, strategy)
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    if len(first) != len(targets):
        raise ValueError(
            f"`inputs` and `targets` must hold the same number of images; received {len(first)} and {len(targets)}."
        )
    timer = _epoch_timer()
    history = model.fit(
        inputs,
        targets,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation,
        verbose=0,
        shuffle=True,
        callbacks=[timer, *callbacks],
    )
    return TrainingRun(model=model, history=dict(history.history), epoch_seconds=tuple(timer.seconds))


def restore(model, inputs, *, batch_size=64):
    """Apply a restoration model and clip its output to [0, 1] (NumPy float32)."""
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    return np.clip(np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0)), 0.0, 1.0).astype(np.float32)


def classical_denoise(images, method, **options):
    """Denoise each image with a classical filter (no learning).

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    method : {"gaussian", "median", "tv", "nl_means"}
        ``gaussian``: ``scipy.ndimage.gaussian_filter`` (``sigma``, default 1);
        ``median``: ``scipy.ndimage.median_filter`` (``size``, default 3);
        ``tv``: ``skimage.restoration.denoise_tv_chambolle`` (``weight``,
        default 0.1); ``nl_means``: ``skimage.restoration.denoise_nl_means``
        (``sigma``, the noise level, default 0.1, and ``h``, default 0.8 of it).
    **options
        Passed to the filter.

    Returns
    -------
    numpy.ndarray
        float32, same shape, clipped to [0, 1].

    Examples
    --------
    >>> noisy = np.random.default_rng(0).random((2, 8, 8, 1))
    >>> classical_denoise(noisy, "median").shape
    (2, 8, 8, 1)
    >>> classical_denoise(noisy, "bilateral")
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of 'gaussian', 'median', 'tv', 'nl_means'; received 'bilateral'.
    """
    import scipy.ndimage
    import skimage.restoration

    images = _validation.check_images("images", images)
    _validation.check_choice("method", method, DENOISERS)
    out = np.empty_like(images)
    for index, image in enumerate(images):
        if method == "gaussian":
            sigma = options.get("sigma", 1.0)
            result = scipy.ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0))
        elif method == "median":
            size = options.get("size", 3)
            result = scipy.ndimage.median_filter(image, size=(size, size, 1))
        elif method == "tv":
            result = skimage.restoration.denoise_tv_chambolle(image, weight=options.get("weight", 0.1), channel_axis=-1)
        else:
            noise = options.get("sigma", 0.1)
            result = skimage.restoration.denoise_nl_means(
                image, h=options.get("h", 0.8) * noise, sigma=noise, patch_size=options.get("patch_size", 3),
                patch_distance=options.get("patch_distance", 5), fast_mode=True, channel_axis=-1,
            )
        out[index] = np.asarray(result, dtype=np.float32).reshape(image.shape)
    return np.clip(out, 0.0, 1.0)


def _check_mask(mask, images):
    mask = _validation.as_float_array("mask", mask)
    expected = images.shape[:3] + (1,)
    if mask.shape != expected:
        raise ValueError(f"`mask` must have shape {expected} (one channel, 1 = missing); received {mask.shape}.")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("`mask` must be binary (1 where a pixel is missing, 0 elsewhere); received other values.")
    return mask.astype(np.float32)


def classical_inpaint(images, mask, method="biharmonic"):
    """Fill the pixels where ``mask`` is 1 without learning.

    ``mean`` writes the mean of each image's known pixels into the hole;
    ``biharmonic`` solves the biharmonic equation inside it
    (``skimage.restoration.inpaint_biharmonic``), the smoothest surface that
    meets the known pixels at the border.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    mask : array_like
        ``(batch, height, width, 1)``, 1 where a pixel is missing.
    method : {"mean", "biharmonic"}

    Returns
    -------
    numpy.ndarray
        float32, same shape; the known pixels are unchanged.

    Examples
    --------
    >>> images = np.full((1, 6, 6, 1), 0.5, dtype=np.float32)
    >>> mask = np.zeros((1, 6, 6, 1)); mask[0, 2:4, 2:4] = 1
    >>> float(classical_inpaint(images, mask, "mean")[0, 3, 3, 0])
    0.5
    >>> classical_inpaint(images, mask[..., 0])
    Traceback (most recent call last):
    ...
    ValueError: `mask` must have shape (1, 6, 6, 1) (one channel, 1 = missing); received (1, 6, 6).
    """
    import skimage.restoration

    images = _validation.check_images("images", images)
    mask = _check_mask(mask, images)
    _validation.check_choice("method", method, INPAINTERS)
    out = images.copy()
    for index, image in enumerate(images):
        hole = mask[index, ..., 0].astype(bool)
        if not hole.any():
            continue
        if method == "mean":
            out[index][hole] = image[~hole].mean(axis=0)
        else:
            filled = skimage.restoration.inpaint_biharmonic(image, hole, channel_axis=-1)
            out[index] = np.where(hole[..., None], filled, image)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def upsample(images, factor, method="bicubic"):
    """Enlarge images by an integer ``factor`` with ``tf.image.resize`` (no learning).

    The pixel grid is the one of :func:`cnn_tutor.data.downsample` (half-pixel
    centres), so ``upsample(downsample(x, r), r)`` is aligned with ``x``.

    Examples
    --------
    >>> upsample(np.ones((1, 3, 4, 1)), 2, "nearest").shape
    (1, 6, 8, 1)
    >>> upsample(np.ones((1, 3, 4, 1)), 2, "lanczos")
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of 'nearest', 'bilinear', 'bicubic'; received 'lanczos'.
    """
    import tensorflow as tf

    images = _validation.check_images("images", images)
    factor = _validation.check_int("factor", factor, minimum=1)
    _validation.check_choice("method", method, UPSAMPLERS)
    size = (images.shape[1] * factor, images.shape[2] * factor)
    resized = tf.image.resize(images, size, method=method).numpy()
    return np.clip(resized, 0.0, 1.0).astype(np.float32)


def hole_psnr(reference, estimate, mask, *, data_range=1.0):
    """PSNR over the masked pixels of the whole batch together (one number, in dB).

    Per-image PSNR on a hole is infinite when a box falls on empty
    background and any method fills it exactly; pooling the squared errors of
    every hole pixel of the batch first gives one finite, comparable figure.
    It calls :func:`cnn_tutor.metrics.masked_psnr` on the batch stacked into
    one tall image.

    Examples
    --------
    >>> ref = np.zeros((2, 4, 4, 1)); est = ref.copy(); est[1, :2] = 0.1
    >>> mask = np.zeros((2, 4, 4, 1)); mask[:, :2] = 1
    >>> round(hole_psnr(ref, est, mask), 2)
    23.01
    """
    from cnn_tutor.metrics import image

    reference = _validation.check_images("reference", reference, value_range=None)
    estimate = _validation.check_images("estimate", estimate, value_range=None)
    _validation.check_same_shape("reference", reference, "estimate", estimate)
    mask = _check_mask(mask, reference)

    def tall(array):
        return array.reshape(1, -1, *array.shape[2:])

    return float(image.masked_psnr(tall(reference), tall(estimate), tall(mask), data_range=data_range)[0])
