"""Measures of quality, one module per kind of task.

- ``image``: PSNR and SSIM (``tf.image`` on TensorFlow, the same formulas in
  NumPy otherwise), PSNR on a mask or a hole, bits per pixel (Concepts,
  Pooling, Reconstruction chapters);
- ``classification``: accuracy of a classifier and the confusion matrix
  (Keras models, Generation, FAQ, Future directions);
- ``detection``: box overlap, non-maximum suppression, recall and false
  positives of a detector, average precision (Keras models);
- ``generation``: classifier score, Frechet and kernel distances of generated
  images (Generation and Generation by denoising); ``generation_intervals``:
  the three with intervals over the samples; ``memorisation``: nearest training
  images and a check for a generator that copies them (Generation by
  denoising);
- ``compression``: bits of a learned codec's symbols, JPEG sizes with and
  without headers, reading a rate-distortion curve at a given rate
  (Reconstruction);
- ``rate``: standard codecs' payload sizes (JPEG, WebP, AVIF without their
  headers), rate-distortion curves and Bjontegaard deltas (Photographs);
- ``intervals``: paired bootstrap intervals of a difference of means
  (Photographs, and every comparison with an interval).

Every function checks its arguments and returns NumPy values; none needs
TensorFlow.
"""

from cnn_tutor.metrics.classification import accuracy, confusion_matrix
from cnn_tutor.metrics.compression import (
    JpegResult,
    code_length_bits,
    compressed_bytes,
    jpeg_roundtrip,
    jpeg_scan_bytes,
    psnr_at_rate,
    symbol_probabilities,
)
from cnn_tutor.metrics.detection import (
    DetectionScore,
    PrecisionRecall,
    average_precision,
    box_iou,
    evaluate_detections,
    non_max_suppression,
)
from cnn_tutor.metrics.generation import (
    GenerationScores,
    classifier_features,
    classifier_score,
    frechet_distance,
    generation_scores,
    kernel_distance,
)
from cnn_tutor.metrics.generation_intervals import GenerationReport, ScoreInterval, generation_report
from cnn_tutor.metrics.image import bits_per_pixel, hole_psnr, masked_psnr, psnr, ssim
from cnn_tutor.metrics.intervals import Interval, mean_difference, paired_bootstrap
from cnn_tutor.metrics.memorisation import MemorisationCheck, Neighbours, memorisation_check, nearest_neighbours
from cnn_tutor.metrics.rate import (
    STANDARD_CODECS,
    CodecResult,
    RDCurve,
    bd_interval,
    bd_psnr,
    bd_rate,
    curve_from_files,
    payload_bytes,
    standard_curve,
    standard_roundtrip,
)

__all__ = [
    "CodecResult",
    "DetectionScore",
    "GenerationReport",
    "GenerationScores",
    "Interval",
    "JpegResult",
    "MemorisationCheck",
    "Neighbours",
    "PrecisionRecall",
    "RDCurve",
    "STANDARD_CODECS",
    "ScoreInterval",
    "accuracy",
    "average_precision",
    "bd_interval",
    "bd_psnr",
    "bd_rate",
    "bits_per_pixel",
    "box_iou",
    "classifier_features",
    "classifier_score",
    "code_length_bits",
    "compressed_bytes",
    "confusion_matrix",
    "curve_from_files",
    "evaluate_detections",
    "frechet_distance",
    "generation_report",
    "generation_scores",
    "hole_psnr",
    "jpeg_roundtrip",
    "jpeg_scan_bytes",
    "kernel_distance",
    "masked_psnr",
    "mean_difference",
    "memorisation_check",
    "nearest_neighbours",
    "non_max_suppression",
    "paired_bootstrap",
    "payload_bytes",
    "psnr",
    "psnr_at_rate",
    "ssim",
    "standard_curve",
    "standard_roundtrip",
    "symbol_probabilities",
]
