"""Tests of cnn_tutor.models.efficiency: cost formulas against real Keras layers, counters, timing."""

import numpy as np
import pytest

from cnn_tutor.models import efficiency

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
    cost = efficiency.conv_cost(height, width, cin, cout, k, strides=stride, padding=padding, bias=bias)
    assert cost.parameters == model.count_params()
    assert cost.macs == efficiency.count_macs(model)
    out_h, out_w = model.output_shape[1:3]
    assert cost.macs == out_h * out_w * k * k * cin * cout  # the formula written out once more


@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("height", "width", "cin", "cout", "k", "stride", "padding"), GEOMETRIES)
def test_depthwise_and_separable_costs_match_keras_layers(height, width, cin, cout, k, stride, padding, bias, multiplier):
    depthwise = _single_layer_model(
        keras.layers.DepthwiseConv2D(k, strides=stride, padding=padding, depth_multiplier=multiplier, use_bias=bias),
        (height, width, cin),
    )
    cost = efficiency.depthwise_cost(
        height, width, cin, k, depth_multiplier=multiplier, strides=stride, padding=padding, bias=bias
    )
    assert (cost.parameters, cost.macs) == (depthwise.count_params(), efficiency.count_macs(depthwise))

    separable = _single_layer_model(
        keras.layers.SeparableConv2D(cout, k, strides=stride, padding=padding, depth_multiplier=multiplier, use_bias=bias),
        (height, width, cin),
    )
    cost = efficiency.separable_cost(
        height, width, cin, cout, k, depth_multiplier=multiplier, strides=stride, padding=padding, bias=bias
    )
    assert (cost.parameters, cost.macs) == (separable.count_params(), efficiency.count_macs(separable))


@pytest.mark.parametrize("variant", list(efficiency.VARIANTS))
def test_every_variant_model_matches_its_formula_and_tensorflows_profiler(variant):
    model = efficiency.build_conv_variant(variant, (12, 10, 8), 16, seed=0)
    cost = efficiency.variant_cost(variant, (12, 10, 8), 16)
    assert model.output_shape == (None, 12, 10, 16)
    assert cost.parameters == model.count_params()
    assert cost.macs == efficiency.count_macs(model)
    assert efficiency.profile_flops(model) == 2 * cost.macs  # no biases: 2 FLOPs per multiply-add


def test_profiler_counts_one_flop_per_bias_addition():
    model = efficiency.build_conv_variant("conv3x3", (6, 6, 2), 3, use_bias=True)
    assert efficiency.profile_flops(model) == 2 * efficiency.count_macs(model) + 6 * 6 * 3


def test_variant_costs_follow_the_published_ratios():
    conv3, conv5 = efficiency.variant_cost("conv3x3"), efficiency.variant_cost("conv5x5")
    stacked, separable = efficiency.variant_cost("stacked3x3"), efficiency.variant_cost("separable3x3")
    assert stacked.macs * 25 == conv5.macs * 18  # two 3x3 cost 18/25 of one 5x5 (Szegedy et al.)
    assert conv5.macs * 9 == conv3.macs * 25
    assert separable.macs / conv3.macs == pytest.approx(1 / 64 + 1 / 9)  # Howard et al.


def test_costs_add_up_and_only_with_costs():
    total = efficiency.ConvCost(1, 2) + efficiency.ConvCost(3, 4)
    assert total == efficiency.ConvCost(4, 6)
    with pytest.raises(TypeError):
        efficiency.ConvCost(1, 2) + 3


def test_count_macs_covers_transposed_dense_and_nested_models():
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(inputs)  # 4x4 inputs, kernel 3x3x3x2
    inner = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Dense(5)])  # applied at 8x8 positions
    model = keras.Model(inputs, inner(x))
    assert efficiency.count_macs(model) == 4 * 4 * 3 * 3 * 3 * 2 + 8 * 8 * 3 * 5


def test_classifier_count_macs_is_the_same_counter():
    from cnn_tutor.models import classifier

    model = classifier.build_classifier(compile=False)
    assert classifier.count_macs(model) == efficiency.count_macs(model) == 2_794_240


def test_cost_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`padding` must be one of 'valid', 'same'; received 'full'"):
        efficiency.conv_cost(8, 8, 1, 1, 3, padding="full")
    with pytest.raises(ValueError, match=r"`in_channels` must be >= 1; received 0"):
        efficiency.conv_cost(8, 8, 0, 1, 3)
    with pytest.raises(TypeError, match=r"`kernel_size` must be an integer; received 3.0"):
        efficiency.separable_cost(8, 8, 1, 1, 3.0)
    with pytest.raises(ValueError, match=r"`kernel_size` must fit in the padded input"):
        efficiency.conv_cost(2, 2, 1, 1, 3, padding="valid")
    with pytest.raises(ValueError, match=r"`depth_multiplier` must be >= 1; received 0"):
        efficiency.depthwise_cost(8, 8, 1, 3, depth_multiplier=0)
    with pytest.raises(ValueError, match=r"`variant` must be one of .*received 'conv7x7'"):
        efficiency.build_conv_variant("conv7x7")
    with pytest.raises(ValueError, match=r"`input_shape` must be \(height, width, channels\)"):
        efficiency.variant_cost("conv3x3", (28, 28))


def test_counters_refuse_unknown_image_sizes():
    from cnn_tutor.models import restoration

    model = restoration.build_conv_denoiser(depth=2, num_filters=4, compile=False)  # (None, None, 1) input
    with pytest.raises(ValueError, match=r"unknown sizes.*`input_shape=\(28, 28, 1\)`"):
        efficiency.count_macs(model)
    with pytest.raises(ValueError, match=r"must have a fixed input shape"):
        efficiency.profile_flops(model)
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model; received str"):
        efficiency.count_macs("model")
    with pytest.raises(ValueError, match=r"`input_shape` must be a tuple such as \(28, 28, 1\); received 28"):
        efficiency.count_macs(model, input_shape=28)


def test_counters_count_a_fully_convolutional_model_on_a_given_size():
    from cnn_tutor.models import restoration

    model = restoration.build_conv_denoiser(depth=2, num_filters=4, compile=False)  # 1 -> 4 -> 1 channels
    expected = 12 * 10 * 9 * (1 * 4 + 4 * 1)
    assert efficiency.count_macs(model, input_shape=(12, 10, 1)) == expected
    assert efficiency.profile_flops(model, input_shape=(12, 10, 1)) == 2 * expected + 12 * 10 * (4 + 1) + 12 * 10
    assert model.input_shape == (None, None, None, 1)  # the model itself is unchanged


def test_time_per_batch_takes_the_median_after_warm_up():
    calls = []

    def function(value):
        calls.append(value)
        return np.ones(2)

    timing = efficiency.time_per_batch(function, 7, repeats=5, warmup=2)
    assert calls == [7] * 7
    assert len(timing.times) == 5 and timing.median == float(np.median(timing.times))
    with pytest.raises(TypeError, match=r"`function` must be callable; received int"):
        efficiency.time_per_batch(3)
    with pytest.raises(ValueError, match=r"`warmup` must be >= 0; received -1"):
        efficiency.time_per_batch(function, 1, warmup=-1)


def test_compare_timings_takes_turns():
    calls = []

    def make(name):
        def function(value):
            calls.append((name, value))
            return value

        return function

    timings = efficiency.compare_timings({"a": make("a"), "b": make("b")}, 1, repeats=3, warmup=1)
    assert calls == [("a", 1), ("b", 1)] + [("a", 1), ("b", 1)] * 3  # warm-up each, then one of each per round
    assert sorted(timings) == ["a", "b"] and all(len(t.times) == 3 for t in timings.values())
    with pytest.raises(ValueError, match=r"`functions` must be a non-empty dict"):
        efficiency.compare_timings({}, 1)
    with pytest.raises(TypeError, match=r"`functions\['a'\]` must be callable; received int"):
        efficiency.compare_timings({"a": 1}, 1)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_train_step_lowers_the_loss_with_and_without_xla(jit_compile):
    from cnn_tutor.models import restoration

    model = restoration.build_conv_denoiser(depth=2, num_filters=4, compile=False, seed=0)
    step = efficiency.make_train_step(model, "mean_squared_error", keras.optimizers.Adam(1e-2), jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    clean = rng.random((8, 12, 12, 1), dtype=np.float32)
    noisy = clean + 0.3 * rng.standard_normal(clean.shape).astype(np.float32)
    losses = [float(step(noisy, clean)) for _ in range(15)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_train_step_wraps_the_optimizer_for_float16():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert model.layers[0].compute_dtype == "float16" and model.layers[0].kernel.dtype == "float32"
    step = efficiency.make_train_step(model, "mean_squared_error", keras.optimizers.SGD(0.01))
    x, y = np.ones((8, 4), "float32"), np.full((8, 1), 100.0, "float32")
    before = model.get_weights()
    first = float(step(x, y))
    # The loss scale starts at 2**15, so the scaled float16 gradients (about 200 * 2**15) overflow:
    # the LossScaleOptimizer skips that update and halves the scale. A bare SGD would write inf.
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    losses = [float(step(x, y)) for _ in range(20)]
    assert np.all(np.isfinite(model.get_weights()[0])) and losses[-1] < first


def test_train_step_errors_name_the_argument():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(TypeError, match=r"`jit_compile` must be True or False; received 'yes'"):
        efficiency.make_train_step(model, "mse", jit_compile="yes")
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model"):
        efficiency.make_train_step(None, "mse")
