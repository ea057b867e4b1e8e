"""cnn_tutor.ops against TensorFlow, SciPy and NumPy, on hundreds of random cases per op."""

import numpy as np
import pytest
import scipy.signal
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnn_tutor import _devices, ops, shapes

tf = _devices.import_tensorflow_quietly()

TOL = 1e-5
CASES = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW_CASES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sizes = st.integers(1, 11)
kernel_sizes = st.integers(1, 5)
steps = st.integers(1, 3)
seeds = st.integers(0, 2**32 - 1)
explicit_pads = st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.tuples(st.integers(0, 3), st.integers(0, 3)))
paddings = st.one_of(st.sampled_from(["valid", "same"]), explicit_pads)


def random(seed, *shape):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)


def tf_padding(padding):
    """Our padding argument in the form tf.nn.* takes."""
    if isinstance(padding, str):
        return padding.upper()
    return [[0, 0], list(padding[0]), list(padding[1]), [0, 0]]


def fits(height, width, kernel_h, kernel_w, strides, padding, dilation):
    """Whether the kernel fits the padded input (else the op must raise, tested separately)."""
    pads = padding if not isinstance(padding, str) else ("valid",) * 2 if padding == "valid" else ("same",) * 2
    try:
        for size, kernel, stride, pad, rate in zip((height, width), (kernel_h, kernel_w), strides, pads, dilation):
            shapes.conv_output_size(size, kernel, stride=stride, padding=pad, dilation=rate)
    except ValueError:
        return False
    return True


@st.composite
def conv_cases(draw, max_size=11, max_channels=4):
    case = dict(
        batch=draw(st.integers(1, 2)),
        height=draw(st.integers(1, max_size)),
        width=draw(st.integers(1, max_size)),
        in_channels=draw(st.integers(1, max_channels)),
        out_channels=draw(st.integers(1, max_channels)),
        kernel_h=draw(kernel_sizes),
        kernel_w=draw(kernel_sizes),
        strides=(draw(steps), draw(steps)),
        dilation=(draw(steps), draw(steps)),
        padding=draw(paddings),
        seed=draw(seeds),
    )
    assume(fits(case["height"], case["width"], case["kernel_h"], case["kernel_w"], case["strides"], case["padding"], case["dilation"]))
    return case


def conv_arrays(case, kernel_channels=None):
    images = random(case["seed"], case["batch"], case["height"], case["width"], case["in_channels"])
    kernel_channels = kernel_channels or (case["in_channels"], case["out_channels"])
    kernels = random(case["seed"] + 1, case["kernel_h"], case["kernel_w"], *kernel_channels)
    return images, kernels


# --- padding -------------------------------------------------------------------------------------------------


@CASES
@given(
    height=st.integers(2, 9),
    width=st.integers(2, 9),
    pads=explicit_pads,
    mode=st.sampled_from(["zero", "constant", "reflect", "symmetric"]),
    seed=seeds,
)
def test_pad_matches_tf_pad(height, width, pads, mode, seed):
    images = random(seed, 2, height, width, 3)
    if mode in ("reflect", "symmetric"):  # TF's limits: pad < size for REFLECT, <= size for SYMMETRIC
        limit = 1 if mode == "reflect" else 0
        assume(max(pads[0]) + limit <= height and max(pads[1]) + limit <= width)
    tf_mode = {"zero": "CONSTANT", "constant": "CONSTANT"}.get(mode, mode.upper())
    value = 0.5 if mode == "constant" else 0.0
    expected = tf.pad(images, tf_padding(pads), mode=tf_mode, constant_values=value).numpy()
    np.testing.assert_allclose(ops.pad(images, pads, mode=mode, value=value), expected, atol=TOL)


@CASES
@given(
    height=st.integers(1, 6),
    width=st.integers(2, 6),
    pads=st.tuples(st.tuples(st.integers(0, 13), st.integers(0, 13)), st.tuples(st.integers(0, 13), st.integers(0, 13))),
    mode=st.sampled_from(["reflect", "symmetric", "edge", "circular", "replicate", "wrap"]),
    seed=seeds,
)
def test_pad_matches_numpy_beyond_one_period(height, width, pads, mode, seed):
    """Pads larger than the image keep mirroring / wrapping, exactly as numpy.pad does."""
    image = random(seed, height, width)
    if mode == "reflect" and height == 1:
        pads = ((0, 0), pads[1])
    numpy_mode = {"circular": "wrap", "replicate": "edge"}.get(mode, mode)
    np.testing.assert_array_equal(ops.pad(image, pads, mode=mode), np.pad(image, pads, mode=numpy_mode))


def test_pad_layouts_and_errors():
    image = np.arange(6.0).reshape(2, 3)
    assert ops.pad(image, 1).shape == (4, 5)
    assert ops.pad(image[..., None], (1, 2), mode="edge").shape == (4, 7, 1)
    assert ops.pad(image[None, ..., None], ((0, 1), (2, 0))).shape == (1, 3, 5, 1)
    with pytest.raises(ValueError, match="`mode` must be one of .* received 'mirror'"):
        ops.pad(image, 1, mode="mirror")
    with pytest.raises(ValueError, match=r"`padding\[0\]` must be >= 0; received -1"):
        ops.pad(image, (-1, 2))
    with pytest.raises(ValueError, match=r"`padding` must be an int p, a pair .* received \(1, 2, 3\)"):
        ops.pad(image, (1, 2, 3))
    with pytest.raises(ValueError, match="`images` must be 2-D .* received shape \\(5,\\)"):
        ops.pad(np.ones(5), 1)
    with pytest.raises(ValueError, match="needs at least 2 pixels"):
        ops.pad(np.ones((1, 4)), 1, mode="reflect")
    with pytest.raises(TypeError, match="`images` must be a numeric array; received dtype <U1"):
        ops.pad(np.array([["a"]]), 1)


# --- single-channel correlation and convolution ---------------------------------------------------------------


@CASES
@given(
    height=st.integers(1, 10),
    width=st.integers(1, 10),
    kernel_h=kernel_sizes,
    kernel_w=kernel_sizes,
    mode=st.sampled_from(["valid", "same", "full"]),
    seed=seeds,
)
def test_correlate_and_convolve_match_scipy(height, width, kernel_h, kernel_w, mode, seed):
    if mode == "valid":
        assume(kernel_h <= height and kernel_w <= width)
    image, kernel = random(seed, height, width), random(seed + 1, kernel_h, kernel_w)
    np.testing.assert_allclose(ops.correlate2d(image, kernel, mode=mode), scipy.signal.correlate2d(image, kernel, mode=mode), atol=TOL)
    np.testing.assert_allclose(ops.convolve2d(image, kernel, mode=mode), scipy.signal.convolve2d(image, kernel, mode=mode), atol=TOL)
    # Convolution is cross-correlation with the kernel turned by 180 degrees.
    if mode != "same":
        np.testing.assert_allclose(ops.convolve2d(image, kernel, mode=mode), ops.correlate2d(image, kernel[::-1, ::-1], mode=mode), atol=TOL)


def test_correlate2d_errors():
    with pytest.raises(ValueError, match="`kernel` must fit in the \\(padded\\) image: received a 3x3 kernel for a 2x2 image"):
        ops.correlate2d(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="`image` must be 2-D \\(height, width\\); received shape \\(1, 4, 4, 1\\)"):
        ops.correlate2d(np.ones((1, 4, 4, 1)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="`mode` must be one of 'valid', 'same', 'full'; received 'circular'"):
        ops.convolve2d(np.ones((4, 4)), np.ones((3, 3)), mode="circular")


# --- multi-channel convolution ---------------------------------------------------------------------------------


@CASES
@given(case=conv_cases())
def test_conv2d_matches_tf(case):
    images, kernels = conv_arrays(case)
    expected = tf.nn.conv2d(
        images, kernels, strides=[1, *case["strides"], 1], padding=tf_padding(case["padding"]), dilations=[1, *case["dilation"], 1]
    ).numpy()
    result = ops.conv2d(images, kernels, strides=case["strides"], padding=case["padding"], dilation=case["dilation"])
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, atol=TOL)


@SLOW_CASES
@given(case=conv_cases(max_size=8, max_channels=3))
def test_conv2d_naive_matches_vectorised(case):
    images, kernels = conv_arrays(case)
    arguments = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])
    np.testing.assert_allclose(ops.conv2d_naive(images, kernels, **arguments), ops.conv2d(images, kernels, **arguments), atol=TOL)


@CASES
@given(case=conv_cases(), multiplier=st.integers(1, 3))
def test_depthwise_conv2d_matches_tf(case, multiplier):
    # TensorFlow's CPU kernel wants equal strides, and stride 1 when dilated.
    stride = case["strides"][0]
    dilation = case["dilation"] if stride == 1 else (1, 1)
    assume(fits(case["height"], case["width"], case["kernel_h"], case["kernel_w"], (stride, stride), case["padding"], dilation))
    images, kernels = conv_arrays(case, kernel_channels=(case["in_channels"], multiplier))
    expected = tf.nn.depthwise_conv2d(
        images, kernels, strides=[1, stride, stride, 1], padding=tf_padding(case["padding"]), dilations=list(dilation)
    ).numpy()
    result = ops.depthwise_conv2d(images, kernels, strides=stride, padding=case["padding"], dilation=dilation)
    np.testing.assert_allclose(result, expected, atol=TOL)


# --- transposed convolution ------------------------------------------------------------------------------------


@st.composite
def transpose_cases(draw):
    case = dict(
        batch=draw(st.integers(1, 2)),
        height=draw(st.integers(1, 7)),
        width=draw(st.integers(1, 7)),
        in_channels=draw(st.integers(1, 3)),
        out_channels=draw(st.integers(1, 3)),
        kernel_h=draw(kernel_sizes),
        kernel_w=draw(kernel_sizes),
        strides=(draw(steps), draw(steps)),
        padding=draw(st.sampled_from(["valid", "same"])),
        seed=draw(seeds),
    )
    use_output_padding = draw(st.booleans())
    case["output_padding"] = (
        (draw(st.integers(0, case["strides"][0] - 1)), draw(st.integers(0, case["strides"][1] - 1)))
        if use_output_padding
        else None
    )
    return case


@CASES
@given(case=transpose_cases())
def test_conv2d_transpose_matches_tf(case):
    images = random(case["seed"], case["batch"], case["height"], case["width"], case["in_channels"])
    kernels = random(case["seed"] + 1, case["kernel_h"], case["kernel_w"], case["out_channels"], case["in_channels"])
    extra = case["output_padding"] or (None, None)
    try:
        out_hw = [
            shapes.conv_transpose_output_size(size, kernel, stride=stride, padding=case["padding"], output_padding=pad)
            for size, kernel, stride, pad in zip((case["height"], case["width"]), (case["kernel_h"], case["kernel_w"]), case["strides"], extra)
        ]
    except ValueError:  # an empty output: the op refuses it too
        with pytest.raises(ValueError, match="The output of conv2d_transpose would be empty"):
            ops.conv2d_transpose(images, kernels, strides=case["strides"], padding=case["padding"], output_padding=case["output_padding"])
        return
    # TensorFlow accepts an output shape only when the forward convolution maps it back to the input shape.
    forward = [
        shapes.conv_output_size(size, kernel, stride=stride, padding=case["padding"]) if size >= kernel or case["padding"] == "same" else -1
        for size, kernel, stride in zip(out_hw, (case["kernel_h"], case["kernel_w"]), case["strides"])
    ]
    assume(forward == [case["height"], case["width"]])
    expected = tf.nn.conv2d_transpose(
        images, kernels, output_shape=[case["batch"], *out_hw, case["out_channels"]], strides=[1, *case["strides"], 1], padding=case["padding"].upper()
    ).numpy()
    result = ops.conv2d_transpose(images, kernels, strides=case["strides"], padding=case["padding"], output_padding=case["output_padding"])
    np.testing.assert_allclose(result, expected, atol=TOL)


@CASES
@given(case=conv_cases(max_size=9, max_channels=3))
def test_conv2d_transpose_is_the_adjoint_of_conv2d(case):
    """<conv2d(x), y> == <x, conv2d_transpose(y)>, with dilation and explicit padding too."""
    images, kernels = conv_arrays(case)
    arguments = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])
    forward = ops.conv2d(images, kernels, **arguments)
    upstream = random(case["seed"] + 2, *forward.shape)
    pads = ops._common.resolve_padding(case["padding"], images.shape[1:3], kernels.shape[:2], case["strides"], case["dilation"])
    # The output padding that brings the transposed output back to the input size: the rows the
    # forward convolution's floor dropped, (padded size - span) mod stride.
    extra = tuple(
        (size + sum(pad) - shapes.effective_kernel_size(kernel, rate)) % stride
        for size, kernel, stride, pad, rate in zip(images.shape[1:3], kernels.shape[:2], case["strides"], pads, case["dilation"])
    )
    backward = ops.conv2d_transpose(upstream, kernels, strides=case["strides"], padding=pads, output_padding=extra, dilation=case["dilation"])
    assert backward.shape == images.shape
    np.testing.assert_allclose(np.sum(forward * upstream), np.sum(images * backward), atol=TOL)


@CASES
@given(
    height=sizes, width=sizes, kernel_h=kernel_sizes, kernel_w=kernel_sizes,
    strides=st.tuples(steps, steps), dilation=st.tuples(steps, steps), padding=paddings, seed=seeds,
)
def test_conv_matrix_is_conv2d(height, width, kernel_h, kernel_w, strides, dilation, padding, seed):
    assume(fits(height, width, kernel_h, kernel_w, strides, padding, dilation))
    image, kernel = random(seed, height, width), random(seed + 1, kernel_h, kernel_w)
    matrix = ops.conv_matrix((height, width), kernel, strides=strides, padding=padding, dilation=dilation)
    expected = ops.conv2d(image[None, ..., None], kernel[..., None, None], strides=strides, padding=padding, dilation=dilation)
    np.testing.assert_allclose(matrix @ image.ravel(), expected.ravel(), atol=TOL)


def test_conv_matrix_transpose_is_conv2d_transpose():
    kernel = random(0, 3, 3)
    matrix = ops.conv_matrix((6, 6), kernel, strides=2, padding=1)  # 6x6 -> 3x3
    upstream = random(1, 3, 3)
    transposed = ops.conv2d_transpose(upstream[None, ..., None], kernel[..., None, None], strides=2, padding=1, output_padding=1)
    np.testing.assert_allclose(matrix.T @ upstream.ravel(), transposed.ravel(), atol=TOL)


# --- pooling ---------------------------------------------------------------------------------------------------


@st.composite
def pool_cases(draw):
    case = dict(
        height=draw(sizes), width=draw(sizes), channels=draw(st.integers(1, 4)),
        pool=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
        strides=draw(st.one_of(st.none(), st.tuples(steps, steps))),
        padding=draw(st.sampled_from(["valid", "same"])),
        seed=draw(seeds),
    )
    strides = case["strides"] or case["pool"]
    assume(fits(case["height"], case["width"], *case["pool"], strides, case["padding"], (1, 1)))
    return case


@CASES
@given(case=pool_cases())
def test_pooling_matches_tf(case):
    images = np.random.default_rng(case["seed"]).random((2, case["height"], case["width"], case["channels"])).astype(np.float32)
    strides = case["strides"] or case["pool"]
    arguments = dict(strides=case["strides"], padding=case["padding"])
    for ours, theirs in ((ops.max_pool2d, tf.nn.max_pool2d), (ops.avg_pool2d, tf.nn.avg_pool2d)):
        expected = theirs(images, ksize=case["pool"], strides=strides, padding=case["padding"].upper()).numpy()
        np.testing.assert_allclose(ours(images, case["pool"], **arguments), expected, atol=TOL)


@CASES
@given(case=pool_cases(), top=st.integers(0, 3), left=st.integers(0, 3))
def test_pooling_with_explicit_padding(case, top, left):
    pads = ((min(top, case["pool"][0] - 1), 0), (0, min(left, case["pool"][1] - 1)))
    strides = case["strides"] or case["pool"]
    assume(fits(case["height"], case["width"], *case["pool"], strides, pads, (1, 1)))
    images = np.random.default_rng(case["seed"]).random((1, case["height"], case["width"], case["channels"])).astype(np.float32)
    expected = tf.nn.max_pool2d(images, ksize=case["pool"], strides=strides, padding=tf_padding(pads)).numpy()
    np.testing.assert_allclose(ops.max_pool2d(images, case["pool"], strides=strides, padding=pads), expected, atol=TOL)
    # Average pooling counts only real pixels: sum over the zero-padded window / number of real pixels.
    ones = np.ones((1, case["height"], case["width"], 1))
    window = np.ones((*case["pool"], 1, 1))
    sums = ops.conv2d_naive(images[..., :1], window, strides=strides, padding=pads)
    counts = ops.conv2d_naive(ones, window, strides=strides, padding=pads)
    np.testing.assert_allclose(ops.avg_pool2d(images, case["pool"], strides=strides, padding=pads)[..., :1], sums / counts, atol=TOL)


def test_global_pooling_matches_keras():
    import keras

    images = random(0, 2, 5, 6, 3)
    average = keras.ops.convert_to_numpy(keras.layers.GlobalAveragePooling2D()(images))  # any backend's tensor
    maximum = keras.ops.convert_to_numpy(keras.layers.GlobalMaxPooling2D()(images))
    np.testing.assert_allclose(ops.global_avg_pool2d(images), average, atol=TOL)
    np.testing.assert_allclose(ops.global_max_pool2d(images), maximum, atol=TOL)
    assert ops.global_avg_pool2d(images, keepdims=True).shape == (2, 1, 1, 3)


# --- errors ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [ops.conv2d, ops.conv2d_naive, ops.depthwise_conv2d])
def test_conv_errors(function):
    images, kernels = np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4))
    with pytest.raises(ValueError, match=r"`images` must be 4-D \(batch, height, width, channels\); received shape \(5, 5\)\. For one single-channel image use `images\[None, \.\.\., None\]`"):
        function(np.ones((5, 5)), kernels)
    with pytest.raises(ValueError, match=r"`kernels` must be 4-D .*; received shape \(3, 3\)\. For one single-channel filter use `kernels\[\.\.\., None, None\]`"):
        function(images, np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"`kernels` must have in_channels \(axis 2\) equal to the channels of `images` \(2\); received kernels of shape \(3, 3, 3, 4\)"):
        function(images, np.ones((3, 3, 3, 4)))
    with pytest.raises(ValueError, match=r"`kernels` \(7x7, dilation \(1, 1\), spanning 7x7\) must fit in the padded input \(5x5.*received padding='valid'"):
        function(images, np.ones((7, 7, 2, 4)))
    with pytest.raises(ValueError, match=r"spanning 5x5\) must fit in the padded input \(4x4"):
        function(np.ones((1, 4, 4, 2)), kernels, dilation=2)
    with pytest.raises(ValueError, match=r"`strides\[1\]` must be >= 1; received 0"):
        function(images, kernels, strides=(1, 0))
    with pytest.raises(ValueError, match=r"`dilation` must be >= 1; received 0"):
        function(images, kernels, dilation=0)
    with pytest.raises(TypeError, match=r"`strides` must be an integer; received 1.5"):
        function(images, kernels, strides=1.5)
    with pytest.raises(ValueError, match=r"`padding` must be one of 'valid', 'same'; received 'full'"):
        function(images, kernels, padding="full")
    with pytest.raises(TypeError, match=r"`images` must be a numeric array; received dtype <U1"):
        function(np.full((1, 5, 5, 2), "x"), kernels)
    with pytest.raises(TypeError, match=r"`kernels` must be a real-valued array; received dtype complex128"):
        function(images, kernels * 1j)


def test_transpose_and_pool_errors():
    with pytest.raises(ValueError, match=r"`kernels` must have in_channels \(axis 3\) equal to the channels of `images` \(2\)"):
        ops.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"`output_padding` must be smaller than the stride or the dilation \(2\); received 2"):
        ops.conv2d_transpose(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)), strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"`padding` must be smaller than `pool_size` along the height"):
        ops.max_pool2d(np.ones((1, 4, 4, 1)), 2, padding=((2, 0), (0, 0)))
    with pytest.raises(ValueError, match=r"`pool_size` must be >= 1; received 0"):
        ops.avg_pool2d(np.ones((1, 4, 4, 1)), 0)
    with pytest.raises(ValueError, match=r"`images` must be 4-D .* received shape \(4, 4, 1\)\. For one image use `images\[None\]`"):
        ops.global_avg_pool2d(np.ones((4, 4, 1)))
