"""Keras model builders, one module per family.

Each ``build_*`` function returns a Keras model and takes every
hyperparameter as an argument.

- ``classifier``: the source article's MNIST classifier, its training, and
  tools to look inside it (Keras models chapter; reused by Generation);
- ``detector``: the classifier's trunk as a fully convolutional digit
  detector, with box decoding and evaluation (Keras models chapter);
- ``autoencoder``, ``vae``, ``gan``: a convolutional autoencoder, a VAE and
  a DCGAN with resumable checkpoints (Generation chapter);
- ``restoration``, ``compression``: denoising, inpainting and super-resolution
  networks with their classical baselines, and a compression autoencoder with
  its bit count (Reconstruction chapter);
- ``efficiency``: parameter and multiply-add formulas and counters for
  standard, depthwise-separable and stacked convolutions, and timing helpers
  (Future directions chapter).
"""

from cnn_tutor.models import classifier, detector
from cnn_tutor.models.classifier import build_classifier, build_dense_classifier, load_or_train_classifier
from cnn_tutor.models.detector import build_detector, to_fully_convolutional
from cnn_tutor.models import autoencoder, gan, vae
from cnn_tutor.models.autoencoder import build_autoencoder
from cnn_tutor.models.gan import build_dcgan, train_dcgan
from cnn_tutor.models.vae import build_vae
from cnn_tutor.models import compression, restoration
from cnn_tutor.models.compression import build_compression_autoencoder
from cnn_tutor.models.restoration import build_conv_denoiser, build_espcn, build_inpainting_net, build_unet

__all__ = [
    "autoencoder",
    "gan",
    "vae",
    "build_autoencoder",
    "build_dcgan",
    "build_vae",
    "train_dcgan",
    "build_classifier",
    "build_dense_classifier",
    "build_detector",
    "classifier",
    "detector",
    "load_or_train_classifier",
    "to_fully_convolutional",
    "compression",
    "restoration",
    "build_compression_autoencoder",
    "build_conv_denoiser",
    "build_espcn",
    "build_inpainting_net",
    "build_unet",
]
