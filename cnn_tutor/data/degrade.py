"""Degradations with a seed: noise, masks, downsampling.

Each takes images in the book's convention (float32 ``(batch, height, width,
channels)`` in [0, 1]) and an ``rng`` (an int seed or a
``numpy.random.Generator``), so a chapter can corrupt the same images the same
way every time.  The noise is scikit-image's (``skimage.util.random_noise``)
and the block averaging ``skimage.measure.block_reduce``; the masks are ours.
Used by the Concepts, Pooling, Reconstruction and Future directions chapters.
"""

import numpy as np

from cnn_tutor import _validation

__all__ = ["add_gaussian_noise", "add_salt_pepper_noise", "downsample", "mask_random_boxes"]


def add_gaussian_noise(images, sigma, *, rng=0, clip=True):
    """Add zero-mean Gaussian noise of standard deviation ``sigma``.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    sigma : float
        Noise standard deviation, in the units of the image (>= 0).
    rng : int, numpy.random.Generator or None
        Seed or generator.
    clip : bool
        Clip the result to [0, 1] (what a sensor or a saved file would do).

    Returns
    -------
    numpy.ndarray
        float32, same shape.

    Examples
    --------
    >>> clean = np.full((1, 4, 4, 1), 0.5, dtype=np.float32)
    >>> noisy = add_gaussian_noise(clean, 0.1, rng=0)
    >>> noisy.shape, bool(np.all((noisy >= 0) & (noisy <= 1)))
    ((1, 4, 4, 1), True)
    >>> add_gaussian_noise(clean, -0.1)
    Traceback (most recent call last):
    ...
    ValueError: `sigma` must be >= 0.0; received -0.1.
    """
    import skimage.util

    images = _validation.check_images("images", images)
    sigma = _validation.check_float("sigma", sigma, minimum=0.0)
    rng = _validation.as_rng("rng", rng)
    clip = _validation.check_bool("clip", clip)
    noisy = skimage.util.random_noise(images, mode="gaussian", mean=0.0, var=sigma**2, rng=rng, clip=clip)
    return noisy.astype(np.float32)


def add_salt_pepper_noise(images, amount, *, rng=0, salt_fraction=0.5):
    """Set a fraction ``amount`` of the values to 0 (pepper) or 1 (salt) (``skimage.util.random_noise``).

    Each value (each pixel of a grey image, each channel of a colour one) is
    hit with probability ``amount``; a hit value becomes 1 with probability
    ``salt_fraction`` and 0 otherwise.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    amount : float
        Share of the values replaced, in [0, 1].
    rng : int, numpy.random.Generator or None
        Seed or generator.
    salt_fraction : float
        Share of the replaced values set to 1 (salt) rather than 0 (pepper).

    Returns
    -------
    numpy.ndarray
        float32, same shape.

    Examples
    --------
    >>> noisy = add_salt_pepper_noise(np.full((1, 100, 100, 1), 0.5), 0.2, rng=0, salt_fraction=0.25)
    >>> round(float(np.mean(noisy != 0.5)), 2), round(float(np.mean(noisy == 1.0)), 2)
    (0.2, 0.05)
    """
    import skimage.util

    images = _validation.check_images("images", images)
    amount = _validation.check_float("amount", amount, minimum=0.0, maximum=1.0)
    salt_fraction = _validation.check_float("salt_fraction", salt_fraction, minimum=0.0, maximum=1.0)
    rng = _validation.as_rng("rng", rng)
    noisy = skimage.util.random_noise(images, mode="s&p", amount=amount, salt_vs_pepper=salt_fraction, rng=rng,
                                      clip=False)
    return noisy.astype(np.float32)


def mask_random_boxes(images, *, num_boxes=1, box_size=(8, 8), rng=0, fill=0.0):
    """Remove random rectangles from each image; return the damaged images and the mask.

    Parameters
    ----------
    images : array_like
        ``(batch, height, width, channels)`` in [0, 1].
    num_boxes : int
        Rectangles per image (they may overlap).
    box_size : int or (int, int)
        Height and width of each rectangle.
    rng : int, numpy.random.Generator or None
        Seed or generator.
    fill : float
        Value written into the removed pixels.

    Returns
    -------
    damaged : numpy.ndarray
        float32, same shape as ``images``.
    mask : numpy.ndarray
        float32 ``(batch, height, width, 1)``: 1 where a pixel was removed, 0 where it is known.

    Examples
    --------
    >>> damaged, mask = mask_random_boxes(np.ones((2, 10, 10, 1)), box_size=4, rng=0)
    >>> mask.shape, float(mask[0].sum()), float(damaged[mask == 1].max())
    ((2, 10, 10, 1), 16.0, 0.0)
    """
    images = _validation.check_images("images", images)
    num_boxes = _validation.check_int("num_boxes", num_boxes, minimum=1)
    box_h, box_w = _validation.int_pair("box_size", box_size, minimum=1)
    batch, height, width, _ = images.shape
    if box_h > height or box_w > width:
        raise ValueError(
            f"`box_size` must fit inside the images ({height}x{width}); received {box_h}x{box_w}."
        )
    fill = _validation.check_float("fill", fill, minimum=0.0, maximum=1.0)
    rng = _validation.as_rng("rng", rng)
    mask = np.zeros((batch, height, width, 1), dtype=np.float32)
    for index in range(batch):
        for _ in range(num_boxes):
            top = rng.integers(0, height - box_h + 1)
            left = rng.integers(0, width - box_w + 1)
            mask[index, top : top + box_h, left : left + box_w] = 1.0
    damaged = np.where(mask == 1.0, np.float32(fill), images)
    return damaged.astype(np.float32), mask


def downsample(images, factor):
    """Shrink images by an integer ``factor`` by averaging each ``factor x factor`` block.

    Block averaging is what a sensor with bigger pixels would record, and the
    usual degradation in super-resolution benchmarks on small images
    (``skimage.measure.block_reduce`` with ``numpy.mean``).

    Raises
    ------
    ValueError
        If ``factor`` does not divide the height and the width.

    Examples
    --------
    >>> downsample(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1) / 16, 2)[0, ..., 0] * 16
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> downsample(np.zeros((1, 28, 28, 1)), 3)
    Traceback (most recent call last):
    ...
    ValueError: `factor` must divide the image height and width (28x28); received 3.
    """
    import skimage.measure

    images = _validation.check_images("images", images)
    factor = _validation.check_int("factor", factor, minimum=1)
    height, width = images.shape[1:3]
    if height % factor or width % factor:
        raise ValueError(
            f"`factor` must divide the image height and width ({height}x{width}); received {factor}."
        )
    return skimage.measure.block_reduce(images, (1, factor, factor, 1), np.mean).astype(np.float32)
