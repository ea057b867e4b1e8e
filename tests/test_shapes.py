"""cnn_tutor.shapes against the output shapes of real Keras layers, and receptive fields against conv_matrix."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnn_tutor import _devices, ops, shapes

_devices.import_tensorflow_quietly()
import keras  # noqa: E402  (after TensorFlow's quiet start-up)

# 200 cases against TensorFlow's layers; a pass on another Keras backend checks its layers on 30 (each
# case runs a real layer there, a few times slower, and the formulas were checked on 200 already).
CASES = settings(max_examples=200 if keras.backend.backend() == "tensorflow" else 30, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])

sizes = st.integers(1, 16)
kernels = st.integers(1, 5)
steps = st.integers(1, 3)
pad_names = st.sampled_from(["valid", "same"])


def keras_hw(layer, height, width):
    """Height and width of what a real Keras layer outputs for a (1, height, width, 1) input."""
    return tuple(layer(np.zeros((1, height, width, 1), dtype="float32")).shape[1:3])


def ours(function, sizes_hw, kernel_hw, **kwargs):
    per_axis = {key: value for key, value in kwargs.items() if isinstance(value, tuple)}
    common = {key: value for key, value in kwargs.items() if not isinstance(value, tuple)}
    return tuple(
        function(size, kernel, **common, **{key: value[axis] for key, value in per_axis.items()})
        for axis, (size, kernel) in enumerate(zip(sizes_hw, kernel_hw))
    )


def raises_value_error(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except ValueError:
        return True
    return False


@CASES
@given(height=sizes, width=sizes, kernel_h=kernels, kernel_w=kernels, stride=steps, dilation=steps, padding=pad_names)
def test_conv_output_size_matches_keras_conv2d(height, width, kernel_h, kernel_w, stride, dilation, padding):
    if stride > 1:
        dilation = 1  # Keras refuses strides > 1 together with dilation > 1
    arguments = dict(stride=stride, padding=padding, dilation=dilation)
    if any(raises_value_error(shapes.conv_output_size, size, kernel, **arguments) for size, kernel in ((height, kernel_h), (width, kernel_w))):
        return  # the kernel does not fit; Keras raises too (checked in test_errors)
    layer = keras.layers.Conv2D(1, (kernel_h, kernel_w), strides=stride, padding=padding, dilation_rate=dilation)
    assert ours(shapes.conv_output_size, (height, width), (kernel_h, kernel_w), **arguments) == keras_hw(layer, height, width)


@CASES
@given(height=sizes, width=sizes, kernel_h=kernels, kernel_w=kernels, strides=st.tuples(steps, steps),
       pads=st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.tuples(st.integers(0, 3), st.integers(0, 3))))
def test_explicit_padding_matches_keras_zero_padding(height, width, kernel_h, kernel_w, strides, pads):
    assume(height + sum(pads[0]) >= kernel_h and width + sum(pads[1]) >= kernel_w)
    model = keras.Sequential([keras.layers.ZeroPadding2D(pads), keras.layers.Conv2D(1, (kernel_h, kernel_w), strides=strides)])
    expected = keras_hw(model, height, width)
    assert ours(shapes.conv_output_size, (height, width), (kernel_h, kernel_w), stride=strides, padding=pads) == expected


@CASES
@given(height=sizes, width=sizes, pool_h=st.integers(1, 4), pool_w=st.integers(1, 4),
       strides=st.one_of(st.none(), st.tuples(steps, steps)), padding=pad_names,
       kind=st.sampled_from([keras.layers.MaxPooling2D, keras.layers.AveragePooling2D]))
def test_pool_output_size_matches_keras_pooling(height, width, pool_h, pool_w, strides, padding, kind):
    stride_hw = strides or (pool_h, pool_w)
    assume(padding == "same" or (height >= pool_h and width >= pool_w))
    expected = keras_hw(kind((pool_h, pool_w), strides=strides, padding=padding), height, width)
    assert ours(shapes.pool_output_size, (height, width), (pool_h, pool_w), stride=stride_hw, padding=padding) == expected


@CASES
@given(height=st.integers(1, 10), width=st.integers(1, 10), kernel_h=kernels, kernel_w=kernels,
       stride=steps, padding=pad_names, data=st.data())
def test_conv_transpose_output_size_matches_keras(height, width, kernel_h, kernel_w, stride, padding, data):
    output_padding = data.draw(st.one_of(st.none(), st.integers(0, stride - 1)))
    arguments = dict(stride=stride, padding=padding, output_padding=output_padding)
    layer = keras.layers.Conv2DTranspose(1, (kernel_h, kernel_w), strides=stride, padding=padding, output_padding=output_padding)
    images = np.zeros((1, height, width, 1))
    try:
        expected_hw = ours(shapes.conv_transpose_output_size, (height, width), (kernel_h, kernel_w), **arguments)
    except ValueError as error:
        # Refused exactly where Keras's rule gives an empty output; the op refuses the same case.
        assert "would be empty (size 0)" in str(error)
        assert min(layer.compute_output_shape((1, height, width, 1))[1:3]) == 0
        with pytest.raises(ValueError, match="The output of conv2d_transpose would be empty"):
            ops.conv2d_transpose(images, np.zeros((kernel_h, kernel_w, 1, 1)), strides=stride, padding=padding,
                                 output_padding=output_padding)
        return
    # Keras's own shape rule; running the layer is not always possible: for "same" with an even kernel
    # and output_padding, Keras asks TensorFlow for sizes its backward convolution cannot produce.
    assert expected_hw == tuple(layer.compute_output_shape((1, height, width, 1))[1:3])
    if output_padding is None:
        assert expected_hw == keras_hw(layer, height, width)
    # ...and the shape of what our op computes agrees.
    result = ops.conv2d_transpose(images, np.zeros((kernel_h, kernel_w, 1, 1)), strides=stride, padding=padding, output_padding=output_padding)
    assert result.shape[1:3] == expected_hw


@CASES
@given(size=st.integers(1, 40), kernel=kernels, stride=steps, dilation=steps)
def test_same_padding_gives_ceil_and_puts_the_extra_row_after(size, kernel, stride, dilation):
    before, after = shapes.same_padding(size, kernel, stride=stride, dilation=dilation)
    assert after - before in (0, 1)
    assert shapes.conv_output_size(size, kernel, stride=stride, padding=(before, after), dilation=dilation) == -(-size // stride)


@CASES
@given(layers=st.lists(st.tuples(kernels, st.integers(1, 2), st.integers(1, 2)), min_size=1, max_size=4))
def test_receptive_fields_match_the_composed_conv_matrices(layers):
    """Compose the layers' matrices on a 1-D signal; the first unit reads exactly the predicted span."""
    length = 64
    matrix, size = np.eye(length), length
    for kernel, stride, dilation in layers:
        if shapes.effective_kernel_size(kernel, dilation) > size:
            return
        step = ops.conv_matrix((1, size), np.ones((1, kernel)), strides=(1, stride), dilation=(1, dilation))
        matrix, size = step @ matrix, step.shape[0]
    field = shapes.receptive_fields(layers)[-1]
    read = np.flatnonzero(matrix[0])
    assert read[-1] - read[0] + 1 == field.size
    assert (read[0] + read[-1]) / 2 == field.start
    if size > 1:
        assert np.flatnonzero(matrix[1])[0] - read[0] == field.jump


def test_receptive_field_of_the_articles_classifier():
    # Conv3 - Pool2 - Conv3 - Pool2 - Conv3: each unit of the last conv sees 18x18 pixels.
    fields = shapes.receptive_fields([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)])
    assert [field.size for field in fields] == [3, 4, 8, 10, 18]
    assert fields[-1].jump == 4


def test_errors():
    with pytest.raises(ValueError, match=r"`kernel_size` must fit in the padded input: a kernel of size 5 with dilation 1 spans 5, but the padded input has size 3"):
        shapes.conv_output_size(3, 5)
    with pytest.raises(ValueError, match=r"`stride` must be >= 1; received 0"):
        shapes.conv_output_size(8, 3, stride=0)
    with pytest.raises(ValueError, match=r"`dilation` must be >= 1; received 0"):
        shapes.same_padding(8, 3, dilation=0)
    with pytest.raises(ValueError, match=r"`padding` must be one of 'valid', 'same'; received 'causal'"):
        shapes.pool_output_size(8, 2, padding="causal")
    with pytest.raises(ValueError, match=r"`padding\[1\]` must be >= 0; received -1"):
        shapes.conv_output_size(8, 3, padding=(1, -1))
    with pytest.raises(TypeError, match=r"`input_size` must be an integer; received 8.0"):
        shapes.conv_output_size(8.0, 3)
    with pytest.raises(ValueError, match=r"`output_padding` must be smaller than the stride or the dilation \(2\); received 3"):
        shapes.conv_transpose_output_size(4, 3, stride=2, output_padding=3)
    with pytest.raises(ValueError, match=r"`layers\[1\]` must be \(kernel_size, stride"):
        shapes.receptive_fields([(3, 1), 3])
    with pytest.raises(TypeError, match=r"`layers` must be a sequence"):
        shapes.receptive_fields(3)
