"""Training patches from natural images, and a held-out image to test on.

A network that restores photographs learns from many small crops
(patches) of some photographs and is scored on a whole photograph it never
saw.  :func:`extract_patches` cuts random patches from a list of images;
:func:`make_patch_split` loads ``skimage.data`` photographs, cuts training
patches from all but one and keeps that one whole for testing.

Used by the Reconstruction chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = ["PatchSplit", "extract_patches", "make_patch_split"]


class PatchSplit(typing.NamedTuple):
    """What :func:`make_patch_split` returns."""

    #: Training patches, float32 ``(n, patch_size, patch_size, channels)``.
    patches: np.ndarray
    #: The held-out image, float32 ``(1, height, width, channels)``.
    test_image: np.ndarray
    #: Names of the training images.
    train_names: tuple
    #: Name of the held-out image.
    test_name: str


def extract_patches(images, patch_size, *, patches_per_image=64, rng=0):
    """Cut ``patches_per_image`` random square patches from each image.

    Parameters
    ----------
    images : sequence of array_like
        Images ``(height, width, channels)`` in [0, 1], of any sizes but the
        same number of channels (a 4-D batch works too).
    patch_size : int
        Side of each patch; it must fit in every image.
    patches_per_image : int
        Patches cut from each image (their corners are drawn uniformly).
    rng : int, numpy.random.Generator or None
        Seed or generator.

    Returns
    -------
    numpy.ndarray
        float32 ``(len(images) * patches_per_image, patch_size, patch_size, channels)``.

    Raises
    ------
    ValueError
        If an image is not 3-D, channels differ, or the patch does not fit.

    Examples
    --------
    >>> images = [np.zeros((20, 30, 1)), np.ones((16, 16, 1))]
    >>> extract_patches(images, 8, patches_per_image=3).shape
    (6, 8, 8, 1)
    >>> extract_patches(images, 17)
    Traceback (most recent call last):
    ...
    ValueError: `patch_size` (17) must fit inside every image; images[1] is 16x16.
    """
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    if not isinstance(images, (list, tuple)):
        raise TypeError(
            "`images` must be a list of (height, width, channels) images or a 4-D batch; "
            f"received {type(images).__name__}" + (f" of shape {images.shape}." if hasattr(images, "shape") else ".")
        )
    if not images:
        raise ValueError("`images` must be a non-empty list of (height, width, channels) images; received an empty one.")
    patch_size = _validation.check_int("patch_size", patch_size, minimum=1)
    patches_per_image = _validation.check_int("patches_per_image", patches_per_image, minimum=1)
    rng = _validation.as_rng("rng", rng)
    checked = []
    for index, image in enumerate(images):
        image = _validation.as_float_array(f"images[{index}]", image)
        _validation.check_ndim(f"images[{index}]", image, 3, "(height, width, channels)",
                               hint="For a grayscale image use `image[..., None]`." if image.ndim == 2 else "")
        image = _validation.check_images(f"images[{index}]", image[None])[0]
        if checked and image.shape[-1] != checked[0].shape[-1]:
            raise ValueError(
                f"All images must have the same number of channels; images[0] has {checked[0].shape[-1]}, "
                f"images[{index}] has {image.shape[-1]}."
            )
        if patch_size > min(image.shape[:2]):
            raise ValueError(
                f"`patch_size` ({patch_size}) must fit inside every image; "
                f"images[{index}] is {image.shape[0]}x{image.shape[1]}."
            )
        checked.append(image)
    out = []
    for image in checked:
        tops = rng.integers(0, image.shape[0] - patch_size + 1, size=patches_per_image)
        lefts = rng.integers(0, image.shape[1] - patch_size + 1, size=patches_per_image)
        out.extend(image[t : t + patch_size, l : l + patch_size] for t, l in zip(tops, lefts))
    return np.stack(out).astype(np.float32)


def make_patch_split(
    train_names=("astronaut", "coffee", "chelsea", "rocket", "coins", "moon", "brick", "grass"),
    test_name="camera",
    *,
    patch_size=32,
    patches_per_image=128,
    multiple_of=1,
    rng=0,
):
    """Grey training patches from some ``skimage.data`` photographs and another one held out.

    Parameters
    ----------
    train_names : sequence of str
        Photographs to cut patches from (keys of
        ``cnn_tutor.data.NATURAL_IMAGES``).
    test_name : str
        The held-out photograph; it must not be among ``train_names``.
    patch_size, patches_per_image, rng
        As in :func:`extract_patches`.
    multiple_of : int
        Crop the test image (bottom and right) so its height and width are
        multiples of this (a downsampling factor).

    Returns
    -------
    PatchSplit
        ``(patches, test_image, train_names, test_name)``.

    Examples
    --------
    >>> split = make_patch_split(("coins",), "camera", patch_size=16, patches_per_image=2, multiple_of=3)
    >>> split.patches.shape, split.test_image.shape
    ((2, 16, 16, 1), (1, 510, 510, 1))
    >>> make_patch_split(("camera",), "camera")
    Traceback (most recent call last):
    ...
    ValueError: `test_name` 'camera' must not be one of `train_names`: the test image is held out.
    """
    from cnn_tutor.data.images import NATURAL_IMAGES, load_image

    if isinstance(train_names, str) or not isinstance(train_names, (list, tuple)):
        raise TypeError(f"`train_names` must be a list of image names; received {train_names!r}.")
    train_names = tuple(train_names)
    if not train_names:
        raise ValueError("`train_names` must name at least one image.")
    for index, name in enumerate(train_names):
        _validation.check_choice(f"train_names[{index}]", name, tuple(NATURAL_IMAGES))
    _validation.check_choice("test_name", test_name, tuple(NATURAL_IMAGES))
    if test_name in train_names:
        raise ValueError(f"`test_name` {test_name!r} must not be one of `train_names`: the test image is held out.")
    multiple_of = _validation.check_int("multiple_of", multiple_of, minimum=1)
    _validation.check_int("patch_size", patch_size, minimum=1)  # before the slow loading
    _validation.check_int("patches_per_image", patches_per_image, minimum=1)
    _validation.as_rng("rng", rng)
    images = [load_image(name, grayscale=True) for name in train_names]
    patches = extract_patches(images, patch_size, patches_per_image=patches_per_image, rng=rng)
    test = load_image(test_name, grayscale=True)
    height, width = (test.shape[0] // multiple_of) * multiple_of, (test.shape[1] // multiple_of) * multiple_of
    return PatchSplit(patches, test[None, :height, :width], train_names, test_name)
