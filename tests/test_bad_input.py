"""Bad input, for every public function of ops, shapes, data (degrade, images, patches, detection) and metrics.

metrics includes the rates of standard codecs, BD-rate and the bootstrap intervals (rate, intervals).

Property tests: for each argument of each function, hypothesis draws values of
the classes that used to reach NumPy's own errors (empty arrays, ragged nested
lists, a list or a number where a string option goes, non-integer or
non-finite numbers where an integer goes, NumPy scalar types...) and checks
that the function raises ``ValueError`` or ``TypeError`` whose message names
that argument and what it received.  The valid call each case starts from
must work, and NumPy scalar types must give what Python numbers give.
"""

import functools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnn_tutor import data, metrics, ops, shapes

BAD = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# --- bad values, by the kind of argument -------------------------------------------------------------------------

# Short lowercase words that are no valid option or image name of any function here.
VALID_WORDS = {"valid", "same", "full", "zero", "constant", "reflect", "symmetric", "edge", "circular", "replicate",
               "wrap", *data.NATURAL_IMAGES}
texts = st.text(alphabet="abcdefxyz_", min_size=1, max_size=6).filter(lambda text: text not in VALID_WORDS)
non_integers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),  # 2.0 too: an integer argument takes integers
    st.sampled_from([np.float32(2.0), np.float64(1.5), np.float32(-np.inf), np.float32(np.nan)]),
    texts, st.booleans(), st.just(None), st.just(np.bool_(True)), st.just(1 + 2j),
)
non_reals = st.one_of(texts, st.booleans(), st.just(None), st.just([0.5]), st.just(1 + 2j), st.just(np.bool_(False)))
non_finite = st.sampled_from([math.nan, math.inf, -math.inf, np.float32(np.nan), np.float32(-np.inf), np.float64(np.inf)])
not_strings = st.one_of(
    st.lists(texts, max_size=2), st.tuples(texts), st.integers(), st.floats(allow_nan=False), st.just(None),
    st.just(np.array(["same"])), st.just(b"valid"),
)
not_bools = st.one_of(st.sampled_from(["yes", "False", 0, 1, 1.0, None, [True]]), texts)
ragged = st.lists(st.lists(st.floats(0, 1), min_size=1, max_size=3), min_size=2, max_size=3).filter(
    lambda rows: len({len(row) for row in rows}) > 1
)
not_arrays = st.one_of(ragged, st.just([[0.5], [0.5, 0.5]]), texts, st.just(None), st.just({"a": 1}),
                       st.just(np.array([object(), 1.0], dtype=object)))


def empty_arrays(ndim):
    """Arrays with ``ndim`` axes, at least one of length 0."""
    return st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim).filter(lambda shape: 0 in shape).map(np.zeros)


def bad_pairs():
    """Not an int or a pair of ints."""
    return st.one_of(non_integers.filter(lambda v: v is not None), st.lists(st.integers(1, 3), min_size=3, max_size=4),
                     st.just([]), st.just([1]), st.tuples(st.integers(1, 3), non_integers))


KINDS = {
    "int": non_integers,
    "int?": non_integers.filter(lambda v: v is not None),  # None is a valid value (a default)
    "pair": bad_pairs(),
    "pair?": bad_pairs().filter(lambda v: v is not None),
    "float": st.one_of(non_reals, non_finite),
    "float+inf": st.one_of(non_reals, st.sampled_from([math.nan, np.float32(np.nan)])),  # infinities are valid
    "option": st.one_of(not_strings, texts),
    "padding": st.one_of(
        st.sampled_from(["full", "causal", ["same"], None, 1.5, -1, [1, 2, 3], {"top": 1}, math.nan, np.float32(1.0)]),
        texts,
    ),
    "amount": st.sampled_from(["same", "valid", None, 1.5, -1, [1, 2, 3], ((1, 1), (1,)), [[1, 1], 2], np.float32(1.0)]),
    "bool": not_bools,
    "index": st.one_of(st.floats(allow_nan=True, allow_infinity=True), non_finite,
                       st.just(np.array([0.0, 1.5])), st.just(np.float32(-np.inf)), texts, st.just(None),
                       st.just([[1], [1, 2]])),
    "rng": st.one_of(st.integers(max_value=-1), st.floats(allow_nan=True), texts, st.just([1]), st.booleans()),
    "names": st.one_of(st.just("camera"), st.just([]), st.just(None), st.just([3]), st.just(["camera", 3]),
                       st.just(["lena"]), st.integers()),
    "name": st.one_of(not_strings, st.just("lena"), texts),
    "bytes": st.one_of(texts, st.integers(), st.just(None), st.just([255, 216]), st.floats()),
    "model": st.sampled_from([None, "classifier", object(), 3]),
    "layers": st.one_of(st.just("3,1"), st.integers(), st.just(None), st.just([(3,)]), st.just([(3, 1, 1, 0, 9)]),
                        st.just([3]), st.just([(1.5, 1)]), st.just([(3, 1, 0)]), st.just([(3, 1.0)])),
}


def arrays(ndim):
    return st.one_of(empty_arrays(ndim), not_arrays)


# --- the functions, each with a valid call and the kind of each argument ---------------------------------------------

IMAGES = np.linspace(0, 1, 2 * 8 * 8 * 1, dtype=np.float32).reshape(2, 8, 8, 1)
KERNELS = np.full((3, 3, 1, 2), 0.25)


def _digits():
    digits = np.zeros((2, 28, 28, 1), dtype=np.float32)
    digits[:, 4:24, 10:18] = 1.0
    return digits


def _jpeg():
    import io

    import PIL.Image

    buffer = io.BytesIO()
    PIL.Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


@functools.cache
def _classifier():
    import keras

    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Dense(4, activation="relu")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))


def _probabilities():
    return np.full((4, 10), 0.1)


def _paired_bootstrap(statistic, samples, **options):
    """:func:`metrics.paired_bootstrap` with its samples as one argument (the table below passes keywords)."""
    if isinstance(samples, list):
        return metrics.paired_bootstrap(statistic, *samples, **options)
    return metrics.paired_bootstrap(statistic, samples, **options)


_paired_bootstrap.__name__ = "paired_bootstrap"


def _rd_curve(shift=0.0):
    """A 3-image, 4-point rate-distortion curve: bytes grow with the setting, PSNR with the bytes."""
    file_bytes = np.array([[60, 100, 160, 250], [70, 110, 170, 260], [50, 90, 150, 240]]) + int(shift * 10)
    psnr = 20.0 + 4.0 * np.log2(file_bytes / 50.0) + shift
    return metrics.RDCurve("toy", (1, 2, 3, 4), file_bytes, file_bytes - 8, psnr, np.full(3, 64))


def _detections():
    import types

    truth = types.SimpleNamespace(boxes=[np.array([[0.0, 0, 10, 10]])], labels=[np.array([3])])
    found = [types.SimpleNamespace(boxes=np.array([[1.0, 0, 11, 10]]), labels=np.array([3]), scores=np.array([0.9]))]
    return dict(detections=found, dataset=truth, iou_threshold=0.5, match_class=True)


BOXES = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]])
bad_boxes = st.one_of(not_arrays, st.just(np.zeros((2, 3))), st.just(np.zeros((3, 0))), st.just([[0.0, 0.0, 1.0]]),
                      st.just([[2.0, 0.0, 1.0, 1.0]]), st.just([[0.0, 0.0, math.nan, 1.0]]))
bad_labels = st.one_of(ragged, texts, st.just(None), st.just([0.5, 1.0]), st.just([[0, 1]]), st.just([0, 99]))
bad_symbols = st.one_of(not_arrays, st.just(np.zeros(0, dtype=np.int64)), st.just([0.5, 1.0]), st.just([True, False]))
bad_curves = st.sampled_from([None, "curve", (1, 2), 3, np.zeros((3, 4))])
bad_samples = st.one_of(st.just([]), st.just([[]]), st.just([[1.0, 2.0], [1.0, 2.0, 3.0]]), st.lists(ragged, min_size=1, max_size=1),
                        st.just(["abc"]), st.just(None), st.just([[1.0, math.nan, 2.0]]))
bad_psnrs = st.one_of(arrays(1), st.just([30.0, 33.0, math.nan, 36.0]), st.just([30.0, 33.0, 35.0]), st.just([[30.0], [33.0, 35.0]]))
bad_rates = st.one_of(bad_psnrs, st.just([-1.0, 1.0, 1.5, 2.0]), st.just([0.5, 1.0, math.inf, 2.0]))
ANCHOR = dict(anchor_rates=[0.5, 1.0, 1.5, 2.0], anchor_psnr=[30.0, 33.0, 35.0, 36.5],
              test_rates=[0.4, 0.8, 1.3, 1.9], test_psnr=[30.5, 33.5, 35.5, 37.0], method="cubic")
ZERO_IMAGE = np.zeros((4, 4, 1))


# name: (function, valid keyword arguments (a callable when they are costly), {argument: kind})
SPECS = {
    # ops
    "pad": (ops.pad, dict(images=np.ones((4, 4)), padding=1, mode="constant", value=0.5),
            {"images": arrays(2), "padding": "amount", "mode": "option", "value": "float+inf"}),
    "pad_source_index": (ops.pad_source_index, dict(position=np.arange(-2, 6), size=4, mode="reflect"),
                         {"position": "index", "size": "int", "mode": "option"}),
    "correlate2d": (ops.correlate2d, dict(image=np.ones((4, 4)), kernel=np.ones((2, 2)), mode="valid"),
                    {"image": arrays(2), "kernel": arrays(2), "mode": "option"}),
    "convolve2d": (ops.convolve2d, dict(image=np.ones((4, 4)), kernel=np.ones((2, 2)), mode="same"),
                   {"image": arrays(2), "kernel": arrays(2), "mode": "option"}),
    **{
        function.__name__: (function, dict(images=IMAGES, kernels=KERNELS, strides=1, padding="same", dilation=1),
                            {"images": arrays(4), "kernels": arrays(4), "strides": "pair", "padding": "padding",
                             "dilation": "pair"})
        for function in (ops.conv2d, ops.conv2d_naive, ops.depthwise_conv2d)
    },
    "conv2d_transpose": (ops.conv2d_transpose,
                         dict(images=IMAGES, kernels=np.ones((3, 3, 2, 1)), strides=2, padding="same", output_padding=1,
                              dilation=1),
                         {"images": arrays(4), "kernels": arrays(4), "strides": "pair", "padding": "padding",
                          "output_padding": "pair?", "dilation": "pair"}),
    "conv_matrix": (ops.conv_matrix, dict(input_shape=(4, 4), kernel=np.ones((2, 2)), strides=1, padding="valid", dilation=1),
                    {"input_shape": "pair", "kernel": arrays(2), "strides": "pair", "padding": "padding", "dilation": "pair"}),
    **{
        function.__name__: (function, dict(images=IMAGES, pool_size=2, strides=None, padding="valid"),
                            {"images": arrays(4), "pool_size": "pair", "strides": "pair?", "padding": "padding"})
        for function in (ops.max_pool2d, ops.avg_pool2d)
    },
    **{
        function.__name__: (function, dict(images=IMAGES, keepdims=True), {"images": arrays(4), "keepdims": "bool"})
        for function in (ops.global_avg_pool2d, ops.global_max_pool2d)
    },
    # shapes
    "effective_kernel_size": (shapes.effective_kernel_size, dict(kernel_size=3, dilation=2),
                              {"kernel_size": "int", "dilation": "int"}),
    "same_padding": (shapes.same_padding, dict(input_size=7, kernel_size=3, stride=2, dilation=1),
                     {"input_size": "int", "kernel_size": "int", "stride": "int", "dilation": "int"}),
    **{
        function.__name__: (function, dict(input_size=7, kernel_size=3, stride=2, padding="same", dilation=1),
                            {"input_size": "int", "kernel_size": "int", "stride": "int", "padding": "padding",
                             "dilation": "int"})
        for function in (shapes.padding_amounts, shapes.conv_output_size)
    },
    "pool_output_size": (shapes.pool_output_size, dict(input_size=7, pool_size=2, stride=None, padding="valid"),
                         {"input_size": "int", "pool_size": "int", "stride": "int?", "padding": "padding"}),
    "conv_transpose_output_size": (shapes.conv_transpose_output_size,
                                   dict(input_size=4, kernel_size=3, stride=2, padding="same", output_padding=1, dilation=1),
                                   {"input_size": "int", "kernel_size": "int", "stride": "int", "padding": "padding",
                                    "output_padding": "int?", "dilation": "int"}),
    "receptive_fields": (shapes.receptive_fields, dict(layers=[(3, 1), (2, 2, 1, 0)], input_start=0.0),
                         {"layers": "layers", "input_start": "float"}),
    # data: degrade, images, patches, detection
    "add_gaussian_noise": (data.add_gaussian_noise, dict(images=IMAGES, sigma=0.25, rng=0, clip=True),
                           {"images": arrays(4), "sigma": "float", "rng": "rng", "clip": "bool"}),
    "add_salt_pepper_noise": (data.add_salt_pepper_noise, dict(images=IMAGES, amount=0.25, rng=0, salt_fraction=0.5),
                              {"images": arrays(4), "amount": "float", "rng": "rng", "salt_fraction": "float"}),
    "mask_random_boxes": (data.mask_random_boxes, dict(images=IMAGES, num_boxes=2, box_size=(2, 3), rng=0, fill=0.5),
                          {"images": arrays(4), "num_boxes": "int", "box_size": "pair", "rng": "rng", "fill": "float"}),
    "downsample": (data.downsample, dict(images=IMAGES, factor=2), {"images": arrays(4), "factor": "int"}),
    "load_image": (data.load_image, dict(name="camera", grayscale=True, size=(8, 6)),
                   {"name": "name", "grayscale": "bool", "size": "pair?"}),
    "load_images": (data.load_images, dict(names=["camera", "coins"], grayscale=True, size=8),
                    {"names": "names", "grayscale": "bool", "size": "pair?"}),
    "extract_patches": (data.extract_patches, dict(images=[np.zeros((8, 9, 1)), np.ones((6, 6, 1))], patch_size=4,
                                                    patches_per_image=2, rng=0),
                        {"images": st.one_of(not_arrays, st.just([]), st.just([np.zeros((0, 4, 1))]), st.just(np.zeros((4, 4)))),
                         "patch_size": "int", "patches_per_image": "int", "rng": "rng"}),
    "make_patch_split": (data.make_patch_split, dict(train_names=("coins",), test_name="camera", patch_size=8,
                                                      patches_per_image=2, multiple_of=2, rng=0),
                         {"train_names": "names", "test_name": "name", "patch_size": "int", "patches_per_image": "int",
                          "multiple_of": "int", "rng": "rng"}),
    "ink_box": (data.ink_box, dict(image=_digits()[0], ink_threshold=0.5), {"image": arrays(2), "ink_threshold": "float"}),
    "make_detection_set": (data.make_detection_set,
                           lambda: dict(digits=_digits(), labels=[3, 7], num_canvases=2, canvas_size=48,
                                        digits_per_canvas=(1, 2), gap=2, ink_threshold=0.5, num_classes=10, seed=0,
                                        max_tries=20, each_digit_once=False),
                           {"digits": arrays(4), "labels": st.one_of(ragged, texts, st.just(None), st.just([0.5, 1.0])),
                            "num_canvases": "int", "canvas_size": "int", "digits_per_canvas": "pair", "gap": "int",
                            "ink_threshold": "float", "num_classes": "int", "seed": "rng", "max_tries": "int",
                            "each_digit_once": "bool"}),
    # metrics
    **{
        function.__name__: (function, dict(reference=IMAGES, estimate=IMAGES * 0.5, data_range=1.0),
                            {"reference": arrays(4), "estimate": arrays(4), "data_range": "float"})
        for function in (metrics.psnr, metrics.ssim)
    },
    "masked_psnr": (metrics.masked_psnr, dict(reference=IMAGES, estimate=IMAGES * 0.5, mask=np.ones((2, 8, 8, 1)),
                                             data_range=1.0),
                    {"reference": arrays(4), "estimate": arrays(4), "mask": arrays(4), "data_range": "float"}),
    "bits_per_pixel": (metrics.bits_per_pixel, dict(num_bytes=98, num_pixels=784),
                       {"num_bytes": "float", "num_pixels": "float"}),
    "classifier_score": (metrics.classifier_score, dict(probabilities=_probabilities(), eps=1e-12),
                         {"probabilities": arrays(2), "eps": "float"}),
    "frechet_distance": (metrics.frechet_distance,
                         dict(features_a=np.eye(3), features_b=np.eye(3)[::-1] * 0.5, ridge=1e-6),
                         {"features_a": arrays(2), "features_b": arrays(2), "ridge": "float"}),
    "kernel_distance": (metrics.kernel_distance,
                        dict(features_a=np.eye(3), features_b=np.eye(3)[::-1] * 0.5, degree=3, coef0=1.0),
                        {"features_a": arrays(2), "features_b": arrays(2), "degree": "int", "coef0": "float"}),
    "nearest_neighbours": (metrics.nearest_neighbours,
                           dict(queries=IMAGES, references=IMAGES * 0.5, batch_size=1),
                           {"queries": arrays(4), "references": arrays(4), "batch_size": "int"}),
    "memorisation_check": (metrics.memorisation_check,
                           dict(samples=IMAGES, training_images=IMAGES * 0.5, held_out_images=IMAGES * 0.25,
                                quantile=0.5),
                           {"samples": arrays(4), "training_images": arrays(4), "held_out_images": arrays(4),
                            "quantile": "float"}),
    "generation_report": (metrics.generation_report,
                          lambda: dict(model=_classifier(), images=_digits(), real_images=_digits() * 0.5,
                                       num_resamples=10, level=0.9, rng=0, ridge=1e-6, degree=3, batch_size=2),
                          {"model": "model", "images": arrays(4), "real_images": arrays(4), "num_resamples": "int",
                           "level": "float", "rng": "rng", "ridge": "float", "degree": "int", "batch_size": "int"}),
    "classifier_features": (metrics.classifier_features,
                            lambda: dict(model=_classifier(), images=_digits(), layer=None, batch_size=2),
                            {"model": "model", "images": arrays(4), "layer": st.sampled_from([3, ["dense"], b"x"]),
                             "batch_size": "int"}),
    "generation_scores": (metrics.generation_scores,
                          lambda: dict(model=_classifier(), images=_digits(), real_images=_digits() * 0.5, ridge=1e-6,
                                       batch_size=2),
                          {"model": "model", "images": arrays(4), "real_images": arrays(4), "ridge": "float",
                           "batch_size": "int"}),
    "jpeg_roundtrip": (metrics.jpeg_roundtrip, dict(images=IMAGES, quality=50, optimize=True),
                       {"images": arrays(4), "quality": "int", "optimize": "bool"}),
    "jpeg_scan_bytes": (metrics.jpeg_scan_bytes, lambda: dict(data=_jpeg()), {"data": "bytes"}),
    "psnr_at_rate": (metrics.psnr_at_rate, dict(rates=[0.5, 1.0], psnrs=[20.0, 24.0], rate=0.75),
                     {"rates": st.one_of(arrays(1), st.just([0.5, math.nan]), st.just([np.inf, 1.0])),
                      "psnrs": st.one_of(arrays(1), st.just([20.0, math.nan])), "rate": "float"}),
    "hole_psnr": (metrics.hole_psnr, dict(reference=IMAGES, estimate=IMAGES * 0.5, mask=np.ones((2, 8, 8, 1)), data_range=1.0),
                  {"reference": arrays(4), "estimate": arrays(4), "mask": arrays(4), "data_range": "float"}),
    "accuracy": (metrics.accuracy, lambda: dict(model=_classifier(), images=_digits(), labels=[3, 7], batch_size=2),
                 {"model": "model", "images": arrays(4), "labels": bad_labels, "batch_size": "int"}),
    "confusion_matrix": (metrics.confusion_matrix, dict(y_true=[0, 1, 2], y_pred=[0, 2, 2], num_classes=3),
                         {"y_true": bad_labels, "y_pred": bad_labels, "num_classes": "int"}),
    "box_iou": (metrics.box_iou, dict(boxes_a=BOXES[:1], boxes_b=BOXES), {"boxes_a": bad_boxes, "boxes_b": bad_boxes}),
    "non_max_suppression": (metrics.non_max_suppression, dict(boxes=BOXES, scores=[0.9, 0.8], iou_threshold=0.5,
                                                              max_output_size=None),
                            {"boxes": bad_boxes, "scores": st.one_of(arrays(1), st.just([0.9]), st.just([0.9, math.nan])),
                             "iou_threshold": "float", "max_output_size": "int?"}),
    "average_precision": (metrics.average_precision,
                          lambda: {**{k: v for k, v in _detections().items() if k != "match_class"}, "num_classes": 10},
                          {"detections": st.sampled_from([None, 3, "boxes", [], [None], [{"boxes": 1}]]),
                           "dataset": st.sampled_from([None, 3, "truth", [np.zeros((1, 4))]]),
                           "iou_threshold": "float", "num_classes": "int"}),
    "evaluate_detections": (metrics.evaluate_detections, _detections,
                            {"detections": st.sampled_from([None, 3, "boxes", [], [None], [{"boxes": 1}]]),
                             "dataset": st.sampled_from([None, 3, "truth", [np.zeros((1, 4))]]),
                             "iou_threshold": "float", "match_class": "bool"}),
    "symbol_probabilities": (metrics.symbol_probabilities, dict(symbols=[-2, 0, 0, 1], levels=4, smoothing=1.0),
                             {"symbols": bad_symbols, "levels": "int", "smoothing": "float"}),
    "code_length_bits": (metrics.code_length_bits, dict(symbols=[-2, 0, 0, 1], probabilities=[0.25, 0.25, 0.25, 0.25]),
                         {"symbols": bad_symbols, "probabilities": st.one_of(arrays(1), st.just([0.5, 0.6]),
                                                                             st.just([0.5, math.nan, 0.5, 0.0]))}),
    "compressed_bytes": (metrics.compressed_bytes, dict(symbols=np.arange(-4, 4), method="lzma"),
                         {"symbols": st.one_of(bad_symbols, st.just([1000])), "method": "option"}),
    # metrics: rates of standard codecs, BD-rate, intervals
    "payload_bytes": (metrics.payload_bytes, lambda: dict(data=_jpeg(), codec="jpeg"), {"data": "bytes", "codec": "option"}),
    "standard_roundtrip": (metrics.standard_roundtrip, dict(images=IMAGES, codec="jpeg", quality=50),
                           {"images": arrays(4), "codec": "option", "quality": "int"}),
    "standard_curve": (metrics.standard_curve, dict(images=IMAGES, codec="webp", qualities=(10, 50)),
                       {"images": arrays(4), "codec": "option",
                        "qualities": st.sampled_from([[], 5, "ab", None, [10, 1.5], [[10], [20, 30]], [10, 500], (10, None)])}),
    "curve_from_files": (metrics.curve_from_files,
                         lambda: dict(name="toy", settings=(1, 2), images=[ZERO_IMAGE], files=[[bytes(10)], [bytes(20)]],
                                      decoded=[[ZERO_IMAGE + 0.1], [ZERO_IMAGE + 0.01]], header_bytes=5),
                         {"name": not_strings, "settings": st.sampled_from([None, 3, (1,), (1, 2, 3)]),
                          "images": st.one_of(not_arrays, st.just([]), st.just([np.zeros((0, 4, 1))]), st.just([np.zeros(4)])),
                          "files": st.sampled_from([None, 3, [[bytes(10)]], [["abc"], ["def"]], [[bytes(10)], [3]],
                                                    [[bytes(2)], [bytes(20)]]]),
                          "decoded": st.sampled_from([None, 3, [[ZERO_IMAGE]], [[ZERO_IMAGE], ["x"]],
                                                      [[ZERO_IMAGE], [np.zeros((5, 5, 1))]]]),
                          "header_bytes": "int"}),
    **{
        function.__name__: (function, ANCHOR, {"anchor_rates": bad_rates, "anchor_psnr": bad_psnrs,
                                               "test_rates": bad_rates, "test_psnr": bad_psnrs, "method": "option"})
        for function in (metrics.bd_psnr, metrics.bd_rate)
    },
    "bd_interval": (metrics.bd_interval, lambda: dict(anchor=_rd_curve(), test=_rd_curve(1.0), metric="psnr", headers=True,
                                                      method="cubic", num_resamples=20),
                    {"anchor": bad_curves, "test": bad_curves, "metric": "option", "headers": "bool", "method": "option"}),
    "paired_bootstrap": (_paired_bootstrap, dict(statistic=np.mean, samples=[[1.0, 2.0, 4.0, 3.0]], num_resamples=50,
                                                 confidence=0.75, rng=0),
                         {"statistic": st.sampled_from([None, 3, "mean"]), "samples": bad_samples, "num_resamples": "int",
                          "confidence": st.one_of(non_reals, non_finite, st.sampled_from([0.0, 1.0, 1.5, -0.1])),
                          "rng": "rng"}),
    "mean_difference": (metrics.mean_difference, dict(scores=[1.0, 2.0, 3.0, 4.0], baseline=[0.5, 1.5, 2.0, 3.0],
                                                     num_resamples=50),
                        {"scores": st.one_of(arrays(1), st.just([1.0, 2.0])), "baseline": st.one_of(arrays(1), st.just([[1.0]]))}),
}

CASES = [(name, argument) for name, (_, _, kinds) in SPECS.items() for argument in kinds]


def _valid(name):
    function, arguments, _ = SPECS[name]
    return function, dict(arguments() if callable(arguments) else arguments)


def _strategy(kind):
    return KINDS[kind] if isinstance(kind, str) else kind


def test_every_public_function_is_covered():
    public = {name for module in (ops, shapes, metrics) for name in module.__all__ if callable(getattr(module, name))}
    public |= {name for name in data.__all__ if callable(getattr(data, name)) and
               getattr(data, name).__module__.rsplit(".", 1)[-1] in ("degrade", "images", "patches", "detection")}
    classes = {"ReceptiveField", "DetectionSet", "PatchSplit", "JpegResult", "GenerationScores", "DetectionScore",
               "CodecResult", "RDCurve", "Interval", "ScoreInterval", "GenerationReport", "Neighbours",
               "MemorisationCheck", "PrecisionRecall"}
    assert public - classes == set(SPECS)


@pytest.mark.parametrize("name", list(SPECS))
def test_the_valid_call_works_and_numpy_scalars_count_as_numbers(name):
    """The call each bad case starts from is valid; with NumPy scalars instead of Python numbers it gives the same."""
    function, arguments = _valid(name)
    expected = function(**arguments)
    as_numpy = {
        key: (np.int64(value) if isinstance(value, int) and not isinstance(value, bool)
              else np.float32(value) if isinstance(value, float) and np.float32(value) == value
              else np.bool_(value) if isinstance(value, bool) else value)
        for key, value in arguments.items()
    }
    _assert_same(function(**as_numpy), expected)


def _assert_same(actual, expected):
    """Equal, floats within 1e-9 (scipy.linalg.sqrtm, in frechet_distance, is not bit-for-bit repeatable)."""
    if isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for a, b in zip(actual, expected):
            _assert_same(a, b)
    elif isinstance(expected, (float, np.floating)) or (isinstance(expected, np.ndarray) and expected.dtype.kind == "f"):
        np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=0)
    else:
        np.testing.assert_equal(actual, expected)


@pytest.mark.parametrize(("name", "argument"), CASES, ids=[f"{name}-{argument}" for name, argument in CASES])
@BAD
@given(draw=st.data())
def test_bad_input_names_the_argument_and_what_it_received(name, argument, draw):
    function, arguments = _valid(name)
    kind = SPECS[name][2][argument]
    arguments[argument] = draw.draw(_strategy(kind), label=argument)
    with pytest.raises((ValueError, TypeError)) as caught:
        function(**arguments)
    message = str(caught.value)
    assert f"`{argument}" in message, f"{name}({argument}={arguments[argument]!r}): {message}"
    assert "received" in message or "must" in message, message
    assert not type(caught.value).__module__.startswith("numpy"), message


# --- size-0 results ------------------------------------------------------------------------------------------------------


@BAD
@given(size=st.integers(1, 6), extra=st.integers(1, 3), function=st.sampled_from([ops.conv2d, ops.conv2d_naive, ops.depthwise_conv2d]))
def test_a_kernel_larger_than_the_image_is_refused(size, extra, function):
    images = np.ones((1, size, size + 1, 1))
    with pytest.raises(ValueError, match=r"`kernels` \(.*\) must fit in the padded input .*`images`"):
        function(images, np.ones((size + extra, 1, 1, 1)))
    with pytest.raises(ValueError, match=r"`kernel_size` must fit in the padded input"):
        shapes.conv_output_size(size, size + extra)
    with pytest.raises(ValueError, match=r"`pool_size` \(.*\) must fit in the padded input"):
        ops.max_pool2d(images, (size + extra, 1))
    with pytest.raises(ValueError, match=r"`kernel` must fit in the \(padded\) image"):
        ops.correlate2d(np.ones((size, size)), np.ones((size + extra, 1)))


@BAD
@given(size=st.integers(1, 5), kernel=st.sampled_from([2, 4, 6]), stride=st.integers(1, 3))
def test_an_empty_transposed_convolution_is_refused(size, kernel, stride):
    """'same' with output_padding=0 and an even kernel gives (size - 1) * stride: nothing for a 1-pixel input."""
    expected = (size - 1) * stride
    if expected >= 1:
        assert shapes.conv_transpose_output_size(size, kernel, stride=stride, padding="same", output_padding=0) == expected
        return
    with pytest.raises(ValueError, match=r"output would be empty \(size 0\): input_size=1, kernel_size="):
        shapes.conv_transpose_output_size(size, kernel, stride=stride, padding="same", output_padding=0)
    with pytest.raises(ValueError, match=r"The output of conv2d_transpose would be empty along the height: `images` of height 1"):
        ops.conv2d_transpose(np.ones((1, size, 3, 2)), np.ones((kernel, 1, 2, 2)), strides=stride, padding="same",
                             output_padding=0)


@BAD
@given(size=st.integers(1, 6), extra=st.integers(1, 3))
def test_windows_larger_than_the_images_are_refused(size, extra):
    images = np.full((1, size, size, 1), 0.5)
    with pytest.raises(ValueError, match=r"`box_size` must fit inside the images"):
        data.mask_random_boxes(images, box_size=size + extra)
    with pytest.raises(ValueError, match=r"`patch_size` \(\d+\) must fit inside every image"):
        data.extract_patches([images[0]], size + extra)
    with pytest.raises(ValueError, match=r"`factor` must divide the image height and width"):
        data.downsample(images, size + extra)
    with pytest.raises(ValueError, match=r"`filter_size` must not exceed the image height and width"):
        metrics.ssim(images, images, filter_size=size + extra)


# --- the cases listed in issue 13, one by one ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ops.depthwise_conv2d(np.ones((0, 5, 5, 1)), np.ones((3, 3, 1, 1))), ValueError,
         r"`images` must not be empty, but its axis 0 \(batch\) has length 0; received shape \(0, 5, 5, 1\)"),
        (lambda: ops.conv2d_transpose(np.ones((1, 1, 1, 1)), np.ones((2, 2, 2, 1)), padding="same", output_padding=0),
         ValueError, r"would be empty along the height: `images` of height 1 with `kernels` of height 2, strides 1"),
        (lambda: shapes.conv_transpose_output_size(1, 2, padding="same", output_padding=0), ValueError,
         r"output would be empty \(size 0\)"),
        (lambda: ops.global_avg_pool2d(np.ones((1, 0, 4, 1))), ValueError,
         r"`images` must not be empty, but its axis 1 \(height\) has length 0"),
        (lambda: ops.global_max_pool2d(np.ones((1, 4, 0, 1))), ValueError,
         r"`images` must not be empty, but its axis 2 \(width\) has length 0"),
        (lambda: ops.pad_source_index(1.5, 4, "circular"), TypeError,
         r"`position` must be an integer or an array of integers; received 1.5"),
        (lambda: ops.pad_source_index(math.nan, 4, "reflect"), TypeError, r"`position` must be an integer .*received nan"),
        (lambda: ops.conv2d([[[[1.0]], [[1.0, 2.0]]]], np.ones((1, 1, 1, 1))), ValueError,
         r"`images` must be a rectangular array: nested lists of equal lengths; received a ragged sequence \(the lengths "
         r"differ after 3 dimension\(s\)\)"),
        (lambda: metrics.psnr_at_rate([[0.5, 1.0], [2.0]], [20.0, 24.0], 0.75), ValueError, r"`rates` must be a rectangular array"),
        (lambda: data.add_gaussian_noise([[[[0.5]]], [[[0.5], [0.5]]]], 0.1), ValueError, r"`images` must be a rectangular array"),
        (lambda: ops.pad(np.ones((3, 3)), 1, mode=["reflect"]), TypeError,
         r"`mode` must be a string, one of 'zero', .*; received \['reflect'\] of type list"),
        (lambda: ops.correlate2d(np.ones((3, 3)), np.ones((2, 2)), mode=["same"]), TypeError, r"`mode` must be a string"),
        (lambda: ops.conv2d(np.ones((1, 0, 5, 1)), np.ones((3, 3, 1, 1))), ValueError,
         r"`images` must not be empty, but its axis 1 \(height\) has length 0"),
        (lambda: ops.max_pool2d(np.ones((1, 0, 5, 1)), 2), ValueError, r"`images` must not be empty"),
    ],
)
def test_the_cases_of_issue_13(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_numpy_infinity_is_a_padding_value_like_python_infinity():
    image = np.ones((2, 2))
    for value in (np.float32(-np.inf), np.float64(-np.inf), -math.inf):
        padded = ops.pad(image, 1, mode="constant", value=value)
        assert padded[0, 0] == -np.inf and padded[1, 1] == 1.0
    with pytest.raises(ValueError, match=r"`value` must be a number, not NaN; received nan"):
        ops.pad(image, 1, mode="constant", value=np.float32(np.nan))


def test_integer_positions_of_any_integer_type():
    expected = ops.pad_source_index(np.arange(-3, 7), 4, "reflect")
    for dtype in (np.int8, np.int32, np.uint16, np.int64):
        np.testing.assert_array_equal(ops.pad_source_index(np.arange(-3, 7).astype(dtype) if dtype != np.uint16
                                                           else np.arange(0, 7).astype(dtype), 4, "reflect"),
                                      expected if dtype != np.uint16 else expected[3:])
    assert ops.pad_source_index(np.int64(5), 4, "wrap") == 1
