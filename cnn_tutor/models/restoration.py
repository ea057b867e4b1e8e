"""Image restoration networks: denoising, inpainting (completion) and super-resolution.

- denoising (去噪): :func:`build_conv_denoiser` (a plain stack of
  convolutions with a ``depth`` argument, optionally predicting the noise
  instead of the image) and :func:`build_unet` (a small U-Net with skip
  connections);
- inpainting (补充/修复): :func:`build_inpainting_net`, which receives the
  image and the mask and only fills the hole;
- super-resolution (超分辨率): :func:`build_espcn`, convolutions at low
  resolution and a sub-pixel (depth-to-space) layer.

:func:`cnn_tutor.models.training.train_restoration` trains any of them,
:func:`restore` applies one, clipped to [0, 1]; the classical methods they
must beat are in :mod:`cnn_tutor.baselines`, the scores in
:mod:`cnn_tutor.metrics`.

Used by the Reconstruction and Future directions chapters.
"""

import keras
import numpy as np

from cnn_tutor import _validation
from cnn_tutor.models import layers
from cnn_tutor.models._common import compile_mse, seed_weights

__all__ = ["build_conv_denoiser", "build_espcn", "build_inpainting_net", "build_unet", "restore"]


def _channels(channels):
    return _validation.check_int("channels", channels, minimum=1)


# Argument names: ``num_filters`` is the width of a whole network (an int), ``filters`` a
# sequence with one entry per layer, as Keras's own ``filters`` is the width of one layer.


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
        Seed of the initial weights (``None``: the runtime's seed, see
        :func:`cnn_tutor.runtime.current_seed`).
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
    channels = _channels(channels)
    depth = _validation.check_int("depth", depth, minimum=1)
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    kernel_size = _validation.check_int("kernel_size", kernel_size, minimum=1)
    if kernel_size % 2 == 0:
        raise ValueError(f"`kernel_size` must be odd, so the output stays centred; received {kernel_size}.")
    seed_weights(seed)
    inputs = keras.Input(shape=(None, None, channels), name="noisy")
    x = inputs
    for index in range(depth - 1):
        x = keras.layers.Conv2D(num_filters, kernel_size, padding="same", activation="relu", name=f"conv{index + 1}")(x)
    x = keras.layers.Conv2D(channels, kernel_size, padding="same", name=f"conv{depth}")(x)
    outputs = keras.layers.Subtract(name="minus_noise")([inputs, x]) if residual else x
    model = keras.Model(inputs, outputs, name=name or f"conv_denoiser_{depth}")
    return compile_mse(model, compile, learning_rate)


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
    is a linear 1x1 convolution (no sigmoid, whose flat tails can stall the
    training); :func:`restore` clips the images to [0, 1].

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
    >>> tuple(model(np.zeros((1, 28, 28, 1), dtype=np.float32)).shape)
    (1, 28, 28, 1)
    """
    channels = _channels(channels)
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    levels = _validation.check_int("levels", levels, minimum=1)
    seed_weights(seed)

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
    return compile_mse(model, compile, learning_rate)


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
    channels = _channels(channels)
    num_filters = _validation.check_int("num_filters", num_filters, minimum=1)
    rates = _validation.int_sequence("dilation_rates", dilation_rates, example=(1, 2, 4, 8))
    seed_weights(seed)
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
    keep = keras.layers.Rescaling(-1.0, offset=1.0, name="known")(mask)  # 1 - mask
    outputs = keras.layers.Add(name="composite")(
        [keras.layers.Multiply(name="known_part")([image, keep]), keras.layers.Multiply(name="filled")([prediction, mask])]
    )
    model = keras.Model([image, mask], outputs, name=name)
    return compile_mse(model, compile, learning_rate)


def build_espcn(
    channels=1,
    *,
    upscale_factor=2,
    filters=(64, 32),
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
    filters : sequence of int
        Filters of each hidden convolution (tanh), one entry per layer.
    kernel_sizes : sequence of int
        Kernel size of each convolution: one more than ``filters`` (the last
        one makes the sub-pixel maps).
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
    >>> model = build_espcn(upscale_factor=3, filters=(8,), kernel_sizes=(3, 3), seed=0)
    >>> tuple(model(np.zeros((1, 5, 7, 1), dtype=np.float32)).shape)
    (1, 15, 21, 1)
    >>> build_espcn(filters=(8,), kernel_sizes=(3,))
    Traceback (most recent call last):
    ...
    ValueError: `kernel_sizes` must have one entry more than `filters` (2); received (3,).
    """
    channels = _channels(channels)
    factor = _validation.check_int("upscale_factor", upscale_factor, minimum=2)
    filters = _validation.int_sequence("filters", filters, example=(64, 32), allow_empty=True)
    if not isinstance(kernel_sizes, (tuple, list)) or len(kernel_sizes) != len(filters) + 1:
        raise ValueError(
            f"`kernel_sizes` must have one entry more than `filters` ({len(filters) + 1}); "
            f"received {kernel_sizes!r}."
        )
    kernels = [_validation.check_int(f"kernel_sizes[{i}]", k, minimum=1) for i, k in enumerate(kernel_sizes)]
    seed_weights(seed)
    inputs = keras.Input(shape=(None, None, channels), name="low_resolution")
    x = inputs
    for index, (units, kernel) in enumerate(zip(filters, kernels)):
        x = keras.layers.Conv2D(units, kernel, padding="same", activation="tanh", name=f"conv{index + 1}")(x)
    x = keras.layers.Conv2D(channels * factor**2, kernels[-1], padding="same", name="subpixel_maps")(x)
    outputs = layers.DepthToSpace(factor, name="depth_to_space")(x)
    if residual:
        bicubic = keras.layers.UpSampling2D(factor, interpolation="bicubic", name="bicubic")(inputs)
        outputs = keras.layers.Add(name="bicubic_plus_detail")([bicubic, outputs])
    model = keras.Model(inputs, outputs, name=name)
    return compile_mse(model, compile, learning_rate)


def restore(model, inputs, *, batch_size=64):
    """Apply a restoration model and clip its output to [0, 1] (NumPy float32).

    Parameters
    ----------
    model : keras.Model
        A restoration model (one of the ``build_*`` functions here).
    inputs : numpy.ndarray or list of numpy.ndarray
        Degraded images (``[images, masks]`` for the inpainting net).
    batch_size : int
        Images per forward pass.

    Returns
    -------
    numpy.ndarray
        float32, the model's output clipped to [0, 1].

    Examples
    --------
    >>> model = build_conv_denoiser(depth=1, num_filters=2, residual=False, seed=0)
    >>> out = restore(model, np.full((2, 6, 6, 1), 0.5, "float32"))
    >>> out.dtype, bool(out.min() >= 0.0 and out.max() <= 1.0)
    (dtype('float32'), True)
    """
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    return np.clip(np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0)), 0.0, 1.0).astype(np.float32)
