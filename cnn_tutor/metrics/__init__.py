"""Measures of quality, one module per kind of task.

- ``image``: PSNR and SSIM (wrapping ``tf.image``), PSNR on a mask, bits per
  pixel (Concepts, Pooling, Reconstruction chapters);
- ``generation``: classifier score and Frechet distance of generated images
  (Generation chapter);
- ``compression``: JPEG sizes with and without headers, reading a
  rate-distortion curve at a given rate (Reconstruction chapter).

Every function checks its arguments and returns NumPy values.
"""

from cnn_tutor.metrics.image import bits_per_pixel, masked_psnr, psnr, ssim
from cnn_tutor.metrics.generation import classifier_features, classifier_score, frechet_distance, generation_scores
from cnn_tutor.metrics.compression import jpeg_roundtrip, jpeg_scan_bytes, psnr_at_rate

__all__ = [
    "bits_per_pixel",
    "classifier_features",
    "classifier_score",
    "frechet_distance",
    "generation_scores",
    "masked_psnr",
    "psnr",
    "ssim",
    "jpeg_roundtrip",
    "jpeg_scan_bytes",
    "psnr_at_rate",
]
