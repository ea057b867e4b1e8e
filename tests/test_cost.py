"""Tests of cnn_tutor.cost (formulas against real Keras layers, counters) and of the convolution variants."""

import numpy as np
import pytest

from cnn_tutor import cost
from cnn_tutor.models import classifier, restoration, variants

keras = pytest.importorskip("keras")

# Keras 3.15 converts its variables with np.array(x) internally, which NumPy 2 flags; not ours to fix.
pytestmark = [
    pytest.mark.usefixtures("quiet_runtime"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]


def _single_layer_model(layer, input_shape):
    return keras.Sequential([keras.Input(input_shape), layer])


GEOMETRIES = [
    # height, width, in_channels, out_channels, kernel_size, strides, padding
    (28, 28, 64, 64, 3, 1, "same"),
    (28, 28, 1, 32, 3, 1, "valid"),
    (13, 9, 5, 7, 5, 2, "same"),
    (13, 9, 5, 7, 3, 2, "valid"),
    (8, 8, 3, 4, 1, 1, "valid"),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("height", "width", "cin", "cout", "k", "stride", "padding"), GEOMETRIES)
def test_conv_cost_matches_a_keras_conv2d(height, width, cin, cout, k, stride, padding, bias):
    model = _single_layer_model(
        keras.layers.Conv2D(cout, k, strides=stride, padding=padding, use_bias=bias), (height, width, cin)
    )
    formula = cost.conv_cost(height, width, cin, cout, k, strides=stride, padding=padding, bias=bias)
    assert formula.parameters == model.count_params()
    assert formula.macs == cost.count_macs(model)
    out_h, out_w = model.output_shape[1:3]
    assert formula.macs == out_h * out_w * k * k * cin * cout  # the formula written out once more


@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("height", "width", "cin", "cout", "k", "stride", "padding"), GEOMETRIES)
def test_depthwise_and_separable_costs_match_keras_layers(height, width, cin, cout, k, stride, padding, bias, multiplier):
    depthwise = _single_layer_model(
        keras.layers.DepthwiseConv2D(k, strides=stride, padding=padding, depth_multiplier=multiplier, use_bias=bias),
        (height, width, cin),
    )
    formula = cost.depthwise_cost(
        height, width, cin, k, depth_multiplier=multiplier, strides=stride, padding=padding, bias=bias
    )
    assert (formula.parameters, formula.macs) == (depthwise.count_params(), cost.count_macs(depthwise))

    separable = _single_layer_model(
        keras.layers.SeparableConv2D(cout, k, strides=stride, padding=padding, depth_multiplier=multiplier, use_bias=bias),
        (height, width, cin),
    )
    formula = cost.separable_cost(
        height, width, cin, cout, k, depth_multiplier=multiplier, strides=stride, padding=padding, bias=bias
    )
    assert (formula.parameters, formula.macs) == (separable.count_params(), cost.count_macs(separable))


@pytest.mark.parametrize("variant", list(cost.VARIANTS))
def test_every_variant_model_matches_its_formula(variant):
    model = variants.build_conv_variant(variant, (12, 10, 8), 16, seed=0)
    formula = cost.variant_cost(variant, (12, 10, 8), 16)
    assert model.output_shape == (None, 12, 10, 16)
    assert formula.parameters == model.count_params()
    assert formula.macs == cost.count_macs(model)


@pytest.mark.parametrize("variant", list(cost.VARIANTS))
def test_tensorflows_profiler_counts_two_flops_per_mac(variant, tensorflow_backend):
    model = variants.build_conv_variant(variant, (12, 10, 8), 16, seed=0)
    assert cost.profile_flops(model) == 2 * cost.variant_cost(variant, (12, 10, 8), 16).macs  # no biases


def test_profile_flops_is_a_tensorflow_lesson(backend):
    if backend == "tensorflow":
        pytest.skip("checked under the other backends")
    with pytest.raises(RuntimeError, match="TensorFlow lesson"):
        cost.profile_flops(variants.build_conv_variant("conv3x3", (6, 6, 2), 3))


def test_profiler_counts_one_flop_per_bias_addition(tensorflow_backend):
    model = variants.build_conv_variant("conv3x3", (6, 6, 2), 3, use_bias=True)
    assert cost.profile_flops(model) == 2 * cost.count_macs(model) + 6 * 6 * 3


def test_variant_costs_follow_the_published_ratios():
    conv3, conv5 = cost.variant_cost("conv3x3"), cost.variant_cost("conv5x5")
    stacked, separable = cost.variant_cost("stacked3x3"), cost.variant_cost("separable3x3")
    assert stacked.macs * 25 == conv5.macs * 18  # two 3x3 cost 18/25 of one 5x5 (Szegedy et al.)
    assert conv5.macs * 9 == conv3.macs * 25
    assert separable.macs / conv3.macs == pytest.approx(1 / 64 + 1 / 9)  # Howard et al.


def test_costs_add_up_and_only_with_costs():
    total = cost.ConvCost(1, 2) + cost.ConvCost(3, 4)
    assert total == cost.ConvCost(4, 6)
    with pytest.raises(TypeError):
        cost.ConvCost(1, 2) + 3


def test_count_macs_covers_transposed_dense_and_nested_models():
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(inputs)  # 4x4 inputs, kernel 3x3x3x2
    inner = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Dense(5)])  # applied at 8x8 positions
    model = keras.Model(inputs, inner(x))
    assert cost.count_macs(model) == 4 * 4 * 3 * 3 * 3 * 2 + 8 * 8 * 3 * 5


def test_count_macs_of_the_articles_classifier():
    model = classifier.build_classifier(compile=False)
    conv = 26 * 26 * (3 * 3 * 1 * 32) + 11 * 11 * (3 * 3 * 32 * 64) + 3 * 3 * (3 * 3 * 64 * 64)
    assert cost.count_macs(model) == conv + 576 * 64 + 64 * 10 == 2_794_240
    strided = classifier.build_classifier(strides=(2, 1, 1), padding="same", compile=False)
    assert cost.count_macs(strided) < cost.count_macs(classifier.build_classifier(padding="same", compile=False)) / 4


def test_cost_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`padding` must be one of 'valid', 'same'; received 'full'"):
        cost.conv_cost(8, 8, 1, 1, 3, padding="full")
    with pytest.raises(ValueError, match=r"`in_channels` must be >= 1; received 0"):
        cost.conv_cost(8, 8, 0, 1, 3)
    with pytest.raises(TypeError, match=r"`kernel_size` must be an integer; received 3.0"):
        cost.separable_cost(8, 8, 1, 1, 3.0)
    with pytest.raises(ValueError, match=r"`kernel_size` must fit in the padded input"):
        cost.conv_cost(2, 2, 1, 1, 3, padding="valid")
    with pytest.raises(ValueError, match=r"`depth_multiplier` must be >= 1; received 0"):
        cost.depthwise_cost(8, 8, 1, 3, depth_multiplier=0)
    with pytest.raises(ValueError, match=r"`variant` must be one of .*received 'conv7x7'"):
        variants.build_conv_variant("conv7x7")
    with pytest.raises(ValueError, match=r"`input_shape` must be \(height, width, channels\)"):
        cost.variant_cost("conv3x3", (28, 28))


def test_counters_refuse_unknown_image_sizes():
    model = restoration.build_conv_denoiser(depth=2, num_filters=4, compile=False)  # (None, None, 1) input
    with pytest.raises(ValueError, match=r"unknown sizes.*`input_shape=\(28, 28, 1\)`"):
        cost.count_macs(model)
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model; received str"):
        cost.count_macs("model")
    with pytest.raises(ValueError, match=r"`input_shape` must be a tuple such as \(28, 28, 1\); received 28"):
        cost.count_macs(model, input_shape=28)


def test_counters_count_a_fully_convolutional_model_on_a_given_size(backend):
    model = restoration.build_conv_denoiser(depth=2, num_filters=4, compile=False)  # 1 -> 4 -> 1 channels
    expected = 12 * 10 * 9 * (1 * 4 + 4 * 1)
    assert cost.count_macs(model, input_shape=(12, 10, 1)) == expected
    if backend == "tensorflow":
        assert cost.profile_flops(model, input_shape=(12, 10, 1)) == 2 * expected + 12 * 10 * (4 + 1) + 12 * 10
        with pytest.raises(ValueError, match=r"must have a fixed input shape"):
            cost.profile_flops(model)
    assert model.input_shape == (None, None, None, 1)  # the model itself is unchanged
