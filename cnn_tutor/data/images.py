"""Natural images shipped with scikit-image, in the book's image convention.

``skimage.data`` ships these photographs inside the package, so loading them
needs no network.  Used by the Concepts, Convolution math, Padding and stride,
Pooling and Reconstruction chapters.
"""

import numpy as np

from cnn_tutor import _validation

__all__ = ["NATURAL_IMAGES", "load_image", "load_images"]

#: Photographs that ``skimage.data`` ships (no download) and what they show.
NATURAL_IMAGES = {
    "astronaut": "Eileen Collins, NASA astronaut (512x512, colour)",
    "camera": "a cameraman on a tripod (512x512, grey)",
    "chelsea": "Chelsea the cat (300x451, colour)",
    "coffee": "a cup of coffee (400x600, colour)",
    "coins": "Greek coins (303x384, grey)",
    "moon": "the surface of the moon (512x512, grey)",
    "rocket": "a rocket on its launch pad (427x640, colour)",
    "brick": "a brick wall texture (512x512, grey)",
    "grass": "a grass texture (512x512, grey)",
    "gravel": "a gravel texture (512x512, grey)",
    "page": "a page of printed text (191x384, grey)",
    "text": "hand-written and printed text (172x448, grey)",
    "hubble_deep_field": "the Hubble deep field (872x1000, colour)",
    "immunohistochemistry": "a stained tissue sample (512x512, colour)",
    "clock": "a clock, motion-blurred (300x400, grey)",
}


def load_image(name, *, grayscale=False, size=None):
    """Load one ``skimage.data`` photograph as float32 ``(height, width, channels)`` in [0, 1].

    Parameters
    ----------
    name : str
        One of ``NATURAL_IMAGES``.
    grayscale : bool
        Convert a colour image to one luminance channel (ITU-R 601 weights,
        ``skimage.color.rgb2gray``).  Grey images always have one channel.
    size : int or (int, int), optional
        Resize to ``(height, width)`` (an int means a square) with
        anti-aliasing, for quick experiments.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(height, width, 1)`` or ``(height, width, 3)``.

    Raises
    ------
    ValueError
        If ``name`` is unknown or ``size`` is not positive.

    Examples
    --------
    >>> image = load_image("camera")
    >>> image.shape, image.dtype, float(image.min()) >= 0.0, float(image.max()) <= 1.0
    ((512, 512, 1), dtype('float32'), True, True)
    >>> load_image("astronaut", grayscale=True, size=64).shape
    (64, 64, 1)
    """
    import skimage.color
    import skimage.data
    import skimage.transform
    import skimage.util

    _validation.check_choice("name", name, tuple(NATURAL_IMAGES))
    grayscale = _validation.check_bool("grayscale", grayscale)
    if size is not None:
        height, width = _validation.int_pair("size", size, minimum=1)
    image = skimage.util.img_as_float32(getattr(skimage.data, name)())
    if image.ndim == 3 and grayscale:
        image = skimage.color.rgb2gray(image)
    if image.ndim == 2:
        image = image[..., None]
    if size is not None:
        image = skimage.transform.resize(image, (height, width, image.shape[-1]), anti_aliasing=True)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def load_images(names, *, grayscale=True, size=128):
    """Load several photographs at one size as a batch ``(n, size, size, channels)``.

    Examples
    --------
    >>> load_images(["camera", "coins"], size=32).shape
    (2, 32, 32, 1)
    """
    if isinstance(names, str):
        raise TypeError(f"`names` must be a list of image names; received the string {names!r}.")
    if not isinstance(names, (list, tuple)):
        raise TypeError(f"`names` must be a list of image names; received {names!r} of type {type(names).__name__}.")
    if not names:
        raise ValueError("`names` must name at least one image; received an empty list.")
    for index, name in enumerate(names):
        _validation.check_choice(f"names[{index}]", name, tuple(NATURAL_IMAGES))
    return np.stack([load_image(name, grayscale=grayscale, size=size) for name in names])
