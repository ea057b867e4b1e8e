"""Data for the book: MNIST, natural images, degradations and input pipelines.

- ``mnist``: :func:`load_mnist` (bundled subset, the original IDX files, or the Keras loader)
  and :func:`read_idx`;
- ``images``: :func:`load_image`, photographs from ``skimage.data``;
- ``degrade``: noise, masks and downsampling with a seed;
- ``pipelines``: ``tf.data`` input pipelines (shuffle, batch, cache, prefetch);
- ``detection``: synthetic detection canvases of real digits with boxes;
- ``patches``: training patches from natural images and a held-out image.

Every function returns images in the book's convention: float32
``(batch, height, width, channels)`` in [0, 1].
"""

from cnn_tutor.data.degrade import add_gaussian_noise, add_salt_pepper_noise, downsample, mask_random_boxes
from cnn_tutor.data.detection import DetectionSet, ink_box, make_detection_set
from cnn_tutor.data.images import NATURAL_IMAGES, load_image, load_images
from cnn_tutor.data.mnist import IDX_FILES, MNIST, MNIST_DIR_ENV, SOURCES, MnistUnavailableError, load_mnist, read_idx
from cnn_tutor.data.patches import PatchSplit, extract_patches, make_patch_split
from cnn_tutor.data.pipelines import make_dataset, make_mnist_datasets

__all__ = [
    "DetectionSet",
    "IDX_FILES",
    "MNIST",
    "MNIST_DIR_ENV",
    "NATURAL_IMAGES",
    "SOURCES",
    "MnistUnavailableError",
    "add_gaussian_noise",
    "add_salt_pepper_noise",
    "downsample",
    "ink_box",
    "load_image",
    "load_images",
    "load_mnist",
    "make_dataset",
    "make_detection_set",
    "make_mnist_datasets",
    "mask_random_boxes",
    "PatchSplit",
    "extract_patches",
    "make_patch_split",
    "read_idx",
]
