"""Data for the book: MNIST, natural images, degradations and input pipelines.

- ``mnist``: :func:`load_mnist` (bundled subset, the original IDX files, or the Keras loader)
  and :func:`read_idx`;
- ``images``: :func:`load_image`, photographs from ``skimage.data``;
- ``degrade``: noise, masks and downsampling with a seed;
- ``pipelines``: input pipelines for ``fit`` (``tf.data`` on TensorFlow, a
  ``keras.utils.PyDataset`` on other backends), imported on first use,
  since they import Keras;
- ``detection``: synthetic detection canvases of real digits with boxes;
- ``patches``: training patches from natural images and a held-out image;
- ``splits``: a class-balanced validation split of the training digits.

Every function returns images in the book's convention: float32
``(batch, height, width, channels)`` in [0, 1].
"""

from cnn_tutor.data.degrade import add_gaussian_noise, add_salt_pepper_noise, downsample, mask_random_boxes
from cnn_tutor.data.detection import DetectionSet, ink_box, make_detection_set
from cnn_tutor.data.images import NATURAL_IMAGES, load_image, load_images
from cnn_tutor.data.mnist import IDX_FILES, MNIST, MNIST_DIR_ENV, SOURCES, MnistUnavailableError, load_mnist, read_idx
from cnn_tutor.data.patches import PatchSplit, extract_patches, make_patch_split
from cnn_tutor.data.photos import PHOTO_SPLIT, PhotoSplit, describe_split, load_photo, load_photo_split, luma
from cnn_tutor.data.splits import ValidationSplit, split_validation

# The pipelines import Keras (and so the backend); the rest of the package's data is NumPy.
_LAZY = {"ArrayDataset": "pipelines", "make_dataset": "pipelines", "make_mnist_datasets": "pipelines"}

__all__ = [
    "ArrayDataset",
    "DetectionSet",
    "IDX_FILES",
    "MNIST",
    "MNIST_DIR_ENV",
    "MnistUnavailableError",
    "NATURAL_IMAGES",
    "PHOTO_SPLIT",
    "PatchSplit",
    "PhotoSplit",
    "SOURCES",
    "ValidationSplit",
    "add_gaussian_noise",
    "add_salt_pepper_noise",
    "describe_split",
    "downsample",
    "extract_patches",
    "ink_box",
    "load_image",
    "load_images",
    "load_mnist",
    "load_photo",
    "load_photo_split",
    "luma",
    "make_dataset",
    "make_detection_set",
    "make_mnist_datasets",
    "make_patch_split",
    "mask_random_boxes",
    "read_idx",
    "split_validation",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"cnn_tutor.data.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
