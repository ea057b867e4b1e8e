"""Keras models: builders by family, one training module, the custom layers and the model cache.

Each ``build_*`` function returns a Keras model and takes every
hyperparameter as an argument; every Keras class of the package is a
module-level class registered for ``.keras`` serialisation, and every model
runs on the TensorFlow and JAX backends.

Builders, one module per family:

- ``classifier``: the source article's MNIST classifier and a dense network,
  and tools to look inside them (Keras models chapter; reused by Generation);
- ``detector``: the classifier's trunk as a fully convolutional digit
  detector, with box decoding; ``detector_targets``: its dense training
  targets and losses (Keras models chapter);
- ``autoencoder``, ``vae``, ``gan``: a convolutional autoencoder, a VAE and a
  DCGAN (Generation chapter);
- ``restoration``, ``compression``: denoising, inpainting and
  super-resolution networks, and a compression autoencoder (Reconstruction);
- ``diffusion``: flow matching and diffusion on a time- and class-conditioned
  U-Net, their samplers with classifier-free guidance, and the ideal denoiser
  of a finite training set (Generation by denoising);
- ``codec``, ``entropy``: a learned image codec with a hyperprior and its
  entropy models, coded to real bytes by :mod:`cnn_tutor.coding`; and
  ``patch_training``: training on random patches degraded on the fly
  (Photographs);
- ``variants``: one-idea convolution blocks to count and time (Future
  directions);
- ``layers``: the package's own layers (depth-to-space, quantiser).

Training and storage:

- ``training``: the one ``fit`` path and the helpers that prepare each
  family's data for it; ``callbacks``: epoch timer, sample grid, best epoch on
  a validation score; ``checkpoints``: checkpoints that resume a training;
  ``compiled_step``: one training step as a ``tf.function`` with and without
  XLA (a TensorFlow lesson);
- ``cache``: the trained classifier in a ``.keras`` file outside the
  repository.

Scores are in :mod:`cnn_tutor.metrics`, classical baselines in
:mod:`cnn_tutor.baselines`, costs in :mod:`cnn_tutor.cost`.
"""

from cnn_tutor.models import (
    autoencoder,
    cache,
    checkpoints,
    classifier,
    codec,
    compiled_step,
    compression,
    detector,
    detector_targets,
    diffusion,
    entropy,
    gan,
    layers,
    patch_training,
    restoration,
    training,
    vae,
    variants,
)
from cnn_tutor.models.autoencoder import build_autoencoder
from cnn_tutor.models.cache import load_or_train_classifier
from cnn_tutor.models.classifier import build_classifier, build_dense_classifier
from cnn_tutor.models.codec import build_codec
from cnn_tutor.models.compression import build_compression_autoencoder
from cnn_tutor.models.detector import build_detector, to_fully_convolutional
from cnn_tutor.models.gan import build_dcgan
from cnn_tutor.models.restoration import build_conv_denoiser, build_espcn, build_inpainting_net, build_unet
from cnn_tutor.models.training import fit
from cnn_tutor.models.vae import build_vae
from cnn_tutor.models.variants import build_conv_variant

__all__ = [
    "autoencoder",
    "build_autoencoder",
    "build_classifier",
    "build_codec",
    "build_compression_autoencoder",
    "build_conv_denoiser",
    "build_conv_variant",
    "build_dcgan",
    "build_dense_classifier",
    "build_detector",
    "build_espcn",
    "build_inpainting_net",
    "build_unet",
    "build_vae",
    "cache",
    "checkpoints",
    "classifier",
    "codec",
    "compiled_step",
    "compression",
    "detector",
    "detector_targets",
    "diffusion",
    "entropy",
    "fit",
    "gan",
    "layers",
    "load_or_train_classifier",
    "patch_training",
    "restoration",
    "to_fully_convolutional",
    "training",
    "vae",
    "variants",
]
