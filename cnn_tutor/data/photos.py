"""The photographs of the book: which ``skimage.data`` images train, validate and test, and why.

scikit-image ships a few dozen images inside the package; the rest need a
download (``pooch``), which the book must not rely on.  ``PHOTO_SPLIT``
fixes, once for every experiment on photographs, which shipped images are
used and how:

- **test**: six everyday photographs, three grey and three colour, never
  used for training or for any choice (architecture, budget, parameters);
- **train**: the other shipped photographs (textures, documents,
  microscopy, astronomy, a rocket and the moon); their top 80% of rows give
  the training patches;
- **validation**: the bottom 20% of rows of each training photograph,
  disjoint from the training pixels, for every choice the chapter makes;
- **excluded**: the rest, each with its reason (a duplicate of a test
  image, a drawing rather than a photograph, too small, or not shipped).

Every photograph is used as its luminance ``Y' = 0.299 R + 0.587 G + 0.114 B``
(ITU-R BT.601, the luma of JPEG and of the super-resolution literature), so
colour photographs enter as grey images.  :func:`load_photo_split` loads it
and :func:`describe_split` prints the lists with the reasons.

Used by the Photographs chapter.
"""

import typing

import numpy as np

from cnn_tutor import _validation

__all__ = ["PHOTO_SPLIT", "PhotoSplit", "describe_split", "load_photo", "load_photo_split", "luma"]

#: Which ``skimage.data`` images are used for what, with a reason for each.
PHOTO_SPLIT = {
    "test": {
        "camera": "grey; the classic cameraman, fine texture (grass) and sharp edges",
        "coins": "grey; metal coins, many small edges",
        "clock": "grey; a wall clock photographed while the camera moved (motion blur)",
        "astronaut": "colour; a portrait (Eileen Collins), skin, fabric and flags",
        "coffee": "colour; a cup on a table, smooth shading and specular highlights",
        "chelsea": "colour; a cat, fur texture",
    },
    "train": {
        "rocket": "colour; a rocket on its launch pad, an everyday outdoor scene",
        "moon": "grey; the lunar surface, craters and smooth gradients",
        "brick": "grey; a brick wall texture",
        "grass": "grey; a grass texture",
        "gravel": "grey; a gravel texture",
        "page": "grey; a photographed page of printed text",
        "text": "grey; printed and hand-written text",
        "cell": "grey; a cell under a microscope",
        "immunohistochemistry": "colour; stained tissue under a microscope",
        "hubble_deep_field": "colour; galaxies of the Hubble deep field",
        "retina": "colour; a photograph of a human retina",
        "microaneurysms": "grey; a small crop of a retina photograph",
    },
    "excluded": {
        "cat": "the same photograph as chelsea (a test image)",
        "binary_blobs": "synthetic, not a photograph",
        "checkerboard": "synthetic, not a photograph",
        "horse": "a binary silhouette, not a photograph",
        "logo": "a drawing (the scikit-image logo)",
        "colorwheel": "synthetic, not a photograph",
        "shepp_logan_phantom": "a synthetic test pattern",
        "lfw_subset": "25x25 faces, too small for training patches",
        "brain, cells3d, eagle, kidney, lily, skin, ...": "need a download (pooch), not shipped",
    },
}

#: Fraction of rows of each training photograph kept for validation (the bottom rows).
VALIDATION_FRACTION = 0.2


class PhotoSplit(typing.NamedTuple):
    """What :func:`load_photo_split` returns: lists of grey images ``(height, width, 1)`` in [0, 1]."""

    #: The top rows of each training photograph (cut patches from these).
    train: list
    #: The bottom rows of the same photographs, disjoint from ``train``.
    validation: list
    #: The held-out test photographs, whole.
    test: list
    #: Names of the training photographs (one per entry of ``train`` and ``validation``).
    train_names: tuple
    #: Names of the test photographs.
    test_names: tuple


def luma(rgb):
    """Luminance ``Y' = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601) of RGB images; grey passes through.

    Parameters
    ----------
    rgb : array_like
        ``(..., 3)`` or ``(..., 1)`` in [0, 1].

    Returns
    -------
    numpy.ndarray
        float32 ``(..., 1)``.

    Examples
    --------
    >>> luma(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])).round(3).ravel().tolist()
    [0.299, 0.587, 1.0]
    >>> luma(np.zeros((2, 2)))
    Traceback (most recent call last):
    ...
    ValueError: `rgb` must have 1 or 3 channels in its last axis; received shape (2, 2).
    """
    array = _validation.as_float_array("rgb", rgb)
    if array.ndim < 1 or array.shape[-1] not in (1, 3):
        raise ValueError(f"`rgb` must have 1 or 3 channels in its last axis; received shape {array.shape}.")
    if array.shape[-1] == 1:
        return array.astype(np.float32)
    weights = np.array([0.299, 0.587, 0.114])
    return (array @ weights)[..., None].astype(np.float32)


def load_photo(name):
    """One shipped ``skimage.data`` photograph as its luminance, float32 ``(height, width, 1)`` in [0, 1].

    The 8-bit values are kept (colour photographs: the BT.601 luma rounded
    to 8 bits, as a grey image file would hold it).

    Examples
    --------
    >>> image = load_photo("coins")
    >>> image.shape, image.dtype, float(image.max()) <= 1.0
    ((303, 384, 1), dtype('float32'), True)
    >>> load_photo("lily")
    Traceback (most recent call last):
    ...
    ValueError: `name` must be a photograph of PHOTO_SPLIT['train'] or PHOTO_SPLIT['test']; received 'lily'.
    """
    import skimage.data

    known = (*PHOTO_SPLIT["train"], *PHOTO_SPLIT["test"])
    if name not in known:
        raise ValueError(
            f"`name` must be a photograph of PHOTO_SPLIT['train'] or PHOTO_SPLIT['test']; received {name!r}."
        )
    pixels = np.asarray(getattr(skimage.data, name)(), dtype=np.float64) / 255.0
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    grey = luma(pixels[..., :3])
    return (np.round(grey * 255.0) / 255.0).astype(np.float32)


def load_photo_split(*, validation_fraction=VALIDATION_FRACTION):
    """Load the photographs of ``PHOTO_SPLIT`` as luminance images.

    Parameters
    ----------
    validation_fraction : float
        Fraction of the rows of each training photograph (its bottom rows)
        kept for validation, in (0, 1).

    Returns
    -------
    PhotoSplit

    Examples
    --------
    >>> split = load_photo_split()
    >>> len(split.train), len(split.test), split.test_names[:2]
    (12, 6, ('camera', 'coins'))
    >>> split.train[0].shape[0] + split.validation[0].shape[0] == load_photo("rocket").shape[0]
    True
    """
    validation_fraction = _validation.check_float("validation_fraction", validation_fraction, minimum=0.0)
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"`validation_fraction` must lie strictly between 0 and 1; received {validation_fraction}.")
    train, validation = [], []
    for name in PHOTO_SPLIT["train"]:
        image = load_photo(name)
        cut = image.shape[0] - int(round(validation_fraction * image.shape[0]))
        train.append(image[:cut])
        validation.append(image[cut:])
    test = [load_photo(name) for name in PHOTO_SPLIT["test"]]
    return PhotoSplit(train, validation, test, tuple(PHOTO_SPLIT["train"]), tuple(PHOTO_SPLIT["test"]))


def describe_split(split=None):
    """The split as printable text: each photograph, its size, its role and the reason.

    Parameters
    ----------
    split : PhotoSplit, optional
        A loaded split, for the sizes (loaded when not given).

    Returns
    -------
    str

    Examples
    --------
    >>> print(describe_split().splitlines()[0])
    test (6 photographs, whole; never used for a choice):
    """
    split = load_photo_split() if split is None else split
    if not isinstance(split, PhotoSplit):
        raise TypeError(f"`split` must be a PhotoSplit from load_photo_split(); received {type(split).__name__}.")
    lines = [f"test ({len(split.test)} photographs, whole; never used for a choice):"]
    for name, image in zip(split.test_names, split.test):
        lines.append(f"  {name:<22}{f'{image.shape[0]}x{image.shape[1]}':<14}{PHOTO_SPLIT['test'][name]}")
    lines.append(
        f"train ({len(split.train)} photographs: top rows for training patches, "
        "bottom rows for validation):"
    )
    for name, top, bottom in zip(split.train_names, split.train, split.validation):
        size = f"{top.shape[0]}+{bottom.shape[0]}x{top.shape[1]}"
        lines.append(f"  {name:<22}{size:<14}{PHOTO_SPLIT['train'][name]}")
    lines.append("excluded:")
    for name, reason in PHOTO_SPLIT["excluded"].items():
        lines.append(f"  {name:<22}{reason}" if len(name) < 22 else f"  {name}: {reason}")
    return "\n".join(lines)
