"""A learned image codec with a rate term, trained on distortion + lambda x rate, that writes real bytes.

The codec (for grey images) has the parts of Balle et al. (2017, 2018):

- an **analysis transform** ``g_a`` maps the image to latents ``y``, one
  position per ``8 x 8`` block and 64 channels.  It *starts* as JPEG's
  transform: a strided convolution initialised with the orthonormal DCT
  (:func:`dct_basis`), then a residual stack of convolutions across
  neighbouring blocks whose last layer starts at zero, then a learned gain
  per channel (:class:`ChannelGain`), which sets each channel's
  quantisation step; every weight is then trained;
- a **hyperprior**: a small network ``h_a`` summarises ``y`` into side
  information ``z`` (4 x 4 times coarser still), coded with a learned
  factorised model (:class:`cnn_tutor.models.entropy.FactorizedEntropyModel`);
  ``h_s`` maps the decoded ``z`` to a mean and a scale for every latent,
  and ``y`` is coded under those Gaussians
  (:class:`cnn_tutor.models.entropy.GaussianConditional`);
- a **synthesis transform** ``g_s`` mirrors ``g_a`` (inverse gain,
  residual stack, transposed convolution initialised with the same DCT
  taps) and maps the quantised latents back to pixels.

The **rate** is the code length of ``y`` and ``z`` under the entropy
models, ``-sum log2 p``, in bits per pixel; rounding is replaced by additive
uniform noise in training.  :func:`train_codec` minimises
``MSE_255 + rate_weight * bits_per_pixel``; sweeping ``rate_weight`` traces a
rate-distortion curve.  :func:`compress` writes each image as a byte string
(a header, the coded ``z``, the coded ``y``) with the range coder of
:mod:`cnn_tutor.coding`, and :func:`decompress` reads it back.

The package is cut by role: the network, its layers and losses
(``_network``), its training (``_training``) and its bitstream (``_bitstream``);
every public name is imported from here.

Used by the Photographs chapter.
"""

from cnn_tutor.models.codec._bitstream import HEADER_BYTES, CodecTables, codec_tables, compress, decompress, estimate_bits
from cnn_tutor.models.codec._network import (
    ChannelGain,
    RatePerPixel,
    bits_loss,
    build_codec,
    dct_basis,
    distortion_loss,
    initial_gain,
    rate_loss,
)
from cnn_tutor.models.codec._training import initialize_entropy_models, rescale_codec, train_codec

__all__ = [
    "HEADER_BYTES",
    "ChannelGain",
    "CodecTables",
    "RatePerPixel",
    "bits_loss",
    "build_codec",
    "codec_tables",
    "compress",
    "dct_basis",
    "decompress",
    "distortion_loss",
    "estimate_bits",
    "initial_gain",
    "initialize_entropy_models",
    "rate_loss",
    "rescale_codec",
    "train_codec",
]
