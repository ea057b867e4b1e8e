"""Measures of quality, one module per kind of task.

- ``image``: PSNR and SSIM (wrapping ``tf.image``), PSNR on a mask, bits per
  pixel (Concepts, Pooling, Reconstruction chapters).

Every function checks its arguments and returns NumPy values.
"""

from cnn_tutor.metrics.image import bits_per_pixel, masked_psnr, psnr, ssim

__all__ = ["bits_per_pixel", "masked_psnr", "psnr", "ssim"]
