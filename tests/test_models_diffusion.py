"""Tests of cnn_tutor.models.diffusion: paths and schedules, the network, training batches, samplers, guidance.

The samplers are checked against denoisers whose answer is known: when the
data is one image ``x*``, the best velocity is ``(x_t - x*) / t`` and the best
noise estimate ``(x_t - sqrt(abar) x*) / sqrt(1 - abar)``; with those, every
sampler must end exactly on ``x*``, whatever the number of steps.
Run them on both backends: ``KERAS_BACKEND=jax pytest tests/test_models_diffusion.py``.
"""

import keras
import numpy as np
import pytest

from cnn_tutor.models import diffusion as dm

pytestmark = pytest.mark.usefixtures("quiet_runtime")

SHAPE = (8, 8, 1)


@pytest.fixture
def point():
    """The one image of the single-point data set, in [-1, 1]."""
    return np.linspace(-0.9, 0.9, 64, dtype=np.float32).reshape(SHAPE)


class _OracleFlow(keras.layers.Layer):
    """The exact velocity field of data that is one point: ``(x_t - x*) / t``."""

    def __init__(self, point, **kwargs):
        super().__init__(**kwargs)
        self.point = np.asarray(point, np.float32)

    def call(self, inputs):
        x, t = inputs[0], inputs[1]
        t = keras.ops.reshape(t, (-1, 1, 1, 1))
        return (x - self.point) / keras.ops.maximum(t, 1e-12)


class _OracleNoise(keras.layers.Layer):
    """The exact noise of data that is one point: ``(x_k - sqrt(abar_k) x*) / sqrt(1 - abar_k)``."""

    def __init__(self, point, alpha_bars, **kwargs):
        super().__init__(**kwargs)
        self.point = np.asarray(point, np.float32)
        self.alpha_bars = np.asarray(alpha_bars, np.float32)

    def call(self, inputs):
        x, t = inputs[0], inputs[1]
        k = keras.ops.cast(keras.ops.round(t * (len(self.alpha_bars) - 1)), "int32")
        abar = keras.ops.reshape(keras.ops.take(self.alpha_bars, k), (-1, 1, 1, 1))
        return (x - keras.ops.sqrt(abar) * self.point) / keras.ops.sqrt(1.0 - abar)


class _LabelConstant(keras.layers.Layer):
    """Predicts ``0.1 * label`` everywhere (the "no label" index 10 gives 1.0)."""

    def call(self, inputs):
        x, label, embedded = inputs[0], inputs[2], inputs[3]
        value = 0.1 * keras.ops.reshape(keras.ops.cast(label, "float32"), (-1, 1, 1, 1))
        return keras.ops.zeros_like(x) + value + 0.0 * keras.ops.reshape(embedded, (-1, 1, 1, 1))


def _oracle_model(layer, *, conditional=False):
    inputs = [keras.Input(SHAPE, name="noisy"), keras.Input((), name="time")]
    if not conditional:
        return keras.Model(inputs, layer(inputs))
    inputs.append(keras.Input((), dtype="int32", name="label"))
    embedded = keras.layers.Embedding(11, 1, name="label_embedding")(inputs[2])  # says: 10 classes
    return keras.Model(inputs, layer([*inputs, embedded]))


def _first_noise(seed, count):
    """The starting noise :func:`sample` draws with this seed."""
    return keras.ops.convert_to_numpy(keras.random.normal((count, *SHAPE), seed=keras.random.SeedGenerator(seed)))


def _to_image(x):
    return np.clip((np.asarray(x) + 1.0) / 2.0, 0.0, 1.0)


# -- the straight path and the schedules ---------------------------------------------------------------------


def test_flow_path_ends_midpoint_and_velocity(rng, point):
    flow = dm.RectifiedFlow()
    x, eps = point[None], rng.standard_normal((1, *SHAPE)).astype(np.float32)
    np.testing.assert_allclose(flow.corrupt(x, eps, 0.0), x)
    np.testing.assert_allclose(flow.corrupt(x, eps, 1.0), eps)
    np.testing.assert_allclose(flow.corrupt(x, eps, 0.5), (x + eps) / 2, rtol=1e-6)
    h = 1e-3  # the target is the derivative of the path
    derivative = (flow.corrupt(x, eps, 0.4 + h) - flow.corrupt(x, eps, 0.4 - h)) / (2 * h)
    np.testing.assert_allclose(flow.target(x, eps, 0.4), derivative, atol=1e-3)
    xt = flow.corrupt(x, eps, 0.3)
    np.testing.assert_allclose(flow.clean_estimate(xt, eps - x, 0.3), x, atol=1e-6)
    np.testing.assert_allclose(flow.noise_estimate(xt, eps - x, 0.3), eps, atol=1e-6)


def test_flow_times_per_image_broadcast(rng):
    flow = dm.RectifiedFlow()
    x, eps = np.zeros((2, *SHAPE), np.float32), np.ones((2, *SHAPE), np.float32)
    out = flow.corrupt(x, eps, np.array([0.25, 0.75], np.float32))
    np.testing.assert_allclose(out[:, 0, 0, 0], [0.25, 0.75])


def test_logit_normal_times_concentrate_in_the_middle():
    rng = np.random.default_rng(0)
    uniform = dm.RectifiedFlow().sample_times(rng, 20_000)
    middle = dm.RectifiedFlow(time_sampling="logit_normal").sample_times(rng, 20_000)
    share = lambda t: np.mean((t > 0.25) & (t < 0.75))  # noqa: E731
    assert share(uniform) == pytest.approx(0.5, abs=0.02)
    # P(|n| < logit(0.75)) for n ~ N(0, 1), logit(0.75) = ln 3 = 1.0986: 0.7279
    assert share(middle) == pytest.approx(0.7279, abs=0.02)


def test_linear_schedule_ends_and_product():
    diffusion = dm.GaussianDiffusion(1000)
    assert diffusion.alpha_bars[0] == 1.0
    expected_end = np.exp(np.sum(np.log(1 - np.linspace(1e-4, 0.02, 1000))))
    assert diffusion.alpha_bars[-1] == pytest.approx(expected_end, rel=1e-9)
    assert expected_end == pytest.approx(4.04e-5, rel=0.01)
    signal, noise = diffusion.levels([0.0, 0.001, 1.0])
    np.testing.assert_allclose(signal, [1.0, np.sqrt(1 - 1e-4), np.sqrt(expected_end)])
    np.testing.assert_allclose(signal**2 + noise**2, 1.0)


def test_cosine_schedule_ends_and_midpoint():
    diffusion = dm.GaussianDiffusion(1000, schedule="cosine")
    signal, noise = diffusion.levels(np.linspace(0, 1, 11))
    assert signal[0] == 1.0 and noise[0] == 0.0
    assert signal[-1] < 1e-3  # (almost) no signal left at t = 1
    assert np.all(np.diff(signal) < 0)
    s = 0.008  # abar(t) = cos^2(pi/2 (t + s)/(1 + s)) / cos^2(pi/2 s/(1 + s))
    expected = np.cos(np.pi / 2 * (0.5 + s) / (1 + s)) ** 2 / np.cos(np.pi / 2 * s / (1 + s)) ** 2
    assert signal[5] ** 2 == pytest.approx(expected, rel=1e-9)
    assert diffusion.betas.max() <= 0.999


def test_diffusion_corrupt_and_clean_estimate_invert(rng, point):
    diffusion = dm.GaussianDiffusion(100)
    x, eps = np.stack([point, -point]), rng.standard_normal((2, *SHAPE)).astype(np.float32)
    t = np.array([0.3, 0.9], np.float32)
    xt = diffusion.corrupt(x, eps, t)
    signal, noise = diffusion.levels(t)
    np.testing.assert_allclose(xt[1], signal[1] * x[1] + noise[1] * eps[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(diffusion.clean_estimate(xt, eps, t), x, atol=1e-5)
    np.testing.assert_array_equal(diffusion.target(x, eps, t), eps)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_steps=0), r"`num_steps` must be >= 1"),
        (dict(beta_start=0.03), r"0 < `beta_start` <= `beta_end` < 1"),
        (dict(schedule="sigmoid"), r"`schedule` must be one of 'linear', 'cosine'"),
    ],
)
def test_diffusion_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dm.GaussianDiffusion(**kwargs)


def test_time_out_of_range_and_bad_time_sampling():
    with pytest.raises(ValueError, match=r"`t` must lie in \[0, 1\]"):
        dm.GaussianDiffusion(10).levels(1.5)
    with pytest.raises(ValueError, match=r"`time_sampling` must be one of 'uniform', 'logit_normal'"):
        dm.RectifiedFlow(time_sampling="beta")


# -- the network -----------------------------------------------------------------------------------------------


def test_sinusoidal_embedding_values_and_config():
    layer = dm.SinusoidalEmbedding(6, scale=2.0, max_period=8.0)
    out = keras.ops.convert_to_numpy(layer(np.array([0.25], np.float32)))
    frequencies = 8.0 ** (-np.arange(3) / 3)  # 1, 1/2, 1/4
    angles = 2.0 * 0.25 * frequencies
    np.testing.assert_allclose(out[0], np.concatenate([np.sin(angles), np.cos(angles)]), rtol=1e-6)
    clone = dm.SinusoidalEmbedding.from_config(layer.get_config())
    assert (clone.dim, clone.scale, clone.max_period) == (6, 2.0, 8.0)
    with pytest.raises(ValueError, match=r"`dim` must be even"):
        dm.SinusoidalEmbedding(5)


def test_unet_plan_matches_the_reconstruction_unet():
    net = dm.build_denoising_unet(num_filters=4, levels=2, embedding_dim=8, seed=0)
    convs = [(layer.name, layer.filters) for layer in net.layers if type(layer).__name__ == "Conv2D"]
    assert convs == [
        ("down0_a", 4), ("down0_b", 4), ("down1_a", 8), ("down1_b", 8), ("bottom_a", 16), ("bottom_b", 16),
        ("dec1_a", 8), ("dec1_b", 8), ("dec0_a", 4), ("dec0_b", 4), ("prediction", 1),
    ]  # fmt: skip
    assert [layer.name for layer in net.layers if type(layer).__name__ == "Concatenate"] == ["skip1", "skip0"]
    assert len([layer for layer in net.layers if type(layer).__name__ == "MaxPooling2D"]) == 2
    # every block gets the conditioning
    assert [layer.name for layer in net.layers if type(layer).__name__ == "FiLM"] == [
        "down0_film", "down1_film", "bottom_film", "dec1_film", "dec0_film"
    ]  # fmt: skip


def test_unet_block_without_embedding_is_the_plain_block():
    x = keras.Input((8, 8, 2))
    y = dm.unet_block(x, 3, name="blk")
    model = keras.Model(x, y)
    assert [layer.name for layer in model.layers[1:]] == ["blk_a", "blk_b"]


def test_unet_depends_on_time_and_label(rng):
    net = dm.build_denoising_unet(num_filters=4, embedding_dim=8, num_classes=10, seed=0)
    last = net.get_layer("prediction")
    last.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in last.get_weights()])
    x = rng.standard_normal((1, 28, 28, 1)).astype(np.float32)
    out = lambda t, y: keras.ops.convert_to_numpy(net([x, np.array([t], np.float32), np.array([y])]))  # noqa: E731
    assert not np.allclose(out(0.1, 3), out(0.9, 3))
    assert not np.allclose(out(0.5, 3), out(0.5, 10))
    np.testing.assert_array_equal(out(0.5, 3), out(0.5, 3))


def test_film_scales_and_shifts_each_channel():
    features = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
    out = keras.ops.convert_to_numpy(dm.FiLM()([features, np.array([[1.0, -1.0]], np.float32), np.array([[0.5, 2.0]], np.float32)]))
    np.testing.assert_allclose(out[..., 0], 2 * features[..., 0] + 0.5)
    np.testing.assert_allclose(out[..., 1], np.full((1, 2, 2), 2.0))


def test_label_embedding_starts_at_unit_scale():
    net = dm.build_denoising_unet(num_filters=4, embedding_dim=64, num_classes=10, seed=0)
    rows = keras.ops.convert_to_numpy(net.get_layer("label_embedding").embeddings)
    assert rows.shape == (11, 64)
    assert 0.8 < rows.std() < 1.2


def test_mixed_precision_keeps_the_output_and_the_time_in_float32():
    net = dm.build_denoising_unet(num_filters=4, embedding_dim=8, dtype="mixed_bfloat16", seed=0)
    assert net.get_layer("down0_a").compute_dtype == "bfloat16"
    assert net.get_layer("time_sinusoids").compute_dtype == "float32"
    out = net([np.zeros((1, 28, 28, 1), np.float32), np.ones(1, np.float32)])
    assert keras.backend.standardize_dtype(out.dtype) == "float32"


def test_unet_saves_and_loads(tmp_path, rng):
    net = dm.build_denoising_unet(num_filters=4, embedding_dim=8, num_classes=10, seed=0)
    path = tmp_path / "net.keras"
    net.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    inputs = [rng.standard_normal((2, 28, 28, 1)).astype(np.float32), np.array([0.2, 0.7], np.float32), np.array([1, 10])]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(inputs)), keras.ops.convert_to_numpy(net(inputs)))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(image_shape=(28, 30, 1)), ValueError, r"divisible by 2\*\*levels = 4"),
        (dict(image_shape=(28, 28)), ValueError, r"`image_shape` must be \(height, width, channels\)"),
        (dict(levels=0), ValueError, r"`levels` must be >= 1"),
        (dict(embedding_dim=7), ValueError, r"`embedding_dim` must be even"),
        (dict(num_classes=1), ValueError, r"`num_classes` must be >= 2"),
        (dict(num_filters=1.5), TypeError, r"`num_filters` must be an integer"),
    ],
)
def test_unet_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        dm.build_denoising_unet(**kwargs)


# -- training batches ------------------------------------------------------------------------------------------


def test_batches_are_the_process_applied_to_training_images():
    images = np.stack([np.full(SHAPE, v, np.float32) for v in (0.0, 1.0)])  # -1 and +1 in the model's range
    diffusion = dm.GaussianDiffusion(50)
    batches = dm.DenoisingBatches(diffusion, images, np.array([3, 7]), batch_size=16, steps_per_epoch=3, seed=4)
    (noisy, t, labels), target = batches[1]
    signal, noise = diffusion.levels(t)
    clean = np.where(labels == 3, -1.0, 1.0)[:, None, None, None]  # label 3 is the black image
    np.testing.assert_allclose(noisy, signal[:, None, None, None] * clean + noise[:, None, None, None] * target, atol=1e-5)
    assert np.all((t > 0) & (t <= 1)) and np.allclose(t * 50, np.round(t * 50))


def test_batches_repeat_within_an_epoch_and_change_after_it(images):
    batches = dm.DenoisingBatches(dm.RectifiedFlow(), images, batch_size=4, steps_per_epoch=2, seed=0)
    first = batches[0][1]
    np.testing.assert_array_equal(batches[0][1], first)
    assert not np.array_equal(batches[1][1], first)
    batches.on_epoch_end()
    assert not np.array_equal(batches[0][1], first)


def test_label_dropout_rate(images):
    batches = dm.DenoisingBatches(
        dm.RectifiedFlow(), images, np.array([0, 1, 2]), batch_size=20_000, label_dropout=0.2, seed=0
    )
    (_, _, labels), _ = batches[0]
    assert np.mean(labels == 10) == pytest.approx(0.2, abs=0.01)
    assert set(np.unique(labels)) == {0, 1, 2, 10}


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(label_dropout=0.1), ValueError, r"`label_dropout=0.1` needs `labels`"),
        (dict(labels=[0, 1, 2], label_dropout=1.0), ValueError, r"`label_dropout` must be < 1"),
        (dict(labels=[0, 1]), ValueError, r"`labels` must have one label per image \(3\)"),
        (dict(labels=[0, 1, 10]), ValueError, r"`labels` must lie in \[0, 9\]"),
        (dict(batch_size=0), ValueError, r"`batch_size` must be >= 1"),
    ],
)
def test_batches_errors(images, kwargs, error, match):
    with pytest.raises(error, match=match):
        dm.DenoisingBatches(dm.RectifiedFlow(), images, **kwargs)


def test_batches_reject_other_processes(images):
    with pytest.raises(TypeError, match=r"`process` must be a RectifiedFlow or a GaussianDiffusion"):
        dm.DenoisingBatches("flow", images)


# -- samplers on data that is a single point ------------------------------------------------------------------


@pytest.mark.parametrize("sampler", ["euler", "heun"])
@pytest.mark.parametrize("steps", [1, 3, 10])
def test_flow_samplers_land_on_the_single_point(point, sampler, steps):
    model = _oracle_model(_OracleFlow(point))
    images = dm.sample(model, dm.RectifiedFlow(), 3, sampler=sampler, steps=steps, seed=0)
    np.testing.assert_allclose(images, np.broadcast_to(_to_image(point), images.shape), atol=1e-5)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("steps", [1, 4, 100])
@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_diffusion_samplers_land_on_the_single_point(point, sampler, steps, schedule):
    diffusion = dm.GaussianDiffusion(100, schedule=schedule)
    model = _oracle_model(_OracleNoise(point, diffusion.alpha_bars))
    images = dm.sample(model, diffusion, 3, sampler=sampler, steps=steps, clip_denoised=False, seed=0)
    # The first step divides the oracle's float32 noise by sqrt(abar_T): 0.60 (linear, T = 100) but 4.9e-4
    # (cosine, whose last beta is clipped to 0.999), which turns round-off of 1e-7 into 2e-4.
    tolerance = 1e-5 / np.sqrt(diffusion.alpha_bars[-1])
    np.testing.assert_allclose(images, np.broadcast_to(_to_image(point), images.shape), atol=tolerance)


def test_flow_path_shrinks_linearly_towards_the_point(point):
    # With the exact field each Euler step keeps (t - h) / t of the distance: it falls linearly with t.
    model = _oracle_model(_OracleFlow(point * 0.5))
    _, path = dm.sample(model, dm.RectifiedFlow(), 1, steps=4, seed=3, return_path=True)
    assert path.shape == (5, 1, *SHAPE)
    x1 = _first_noise(3, 1)[0]
    for i, t in enumerate([1.0, 0.75, 0.5, 0.25, 0.0]):
        np.testing.assert_allclose(path[i, 0], _to_image(point * 0.5 * (1 - t) + t * x1), atol=1e-5)


def test_ddpm_adds_fresh_noise_and_ddim_does_not(point):
    diffusion = dm.GaussianDiffusion(100)
    model = _oracle_model(_OracleNoise(point, diffusion.alpha_bars))
    _, ddim = dm.sample(model, diffusion, 1, sampler="ddim", steps=4, clip_denoised=False, seed=0, return_path=True)
    _, ddpm = dm.sample(model, diffusion, 1, sampler="ddpm", steps=4, clip_denoised=False, seed=0, return_path=True)
    np.testing.assert_array_equal(ddim[0], ddpm[0])  # the same starting noise
    assert not np.allclose(ddim[2], ddpm[2])  # ancestral sampling draws new noise on the way
    np.testing.assert_allclose(ddim[-1], ddpm[-1], atol=1e-4)  # both end on the point


# -- one step: the network's clean-image estimate ---------------------------------------------------------------


@pytest.fixture
def random_net(rng):
    net = dm.build_denoising_unet(image_shape=SHAPE, num_filters=4, embedding_dim=8, levels=1, seed=0)
    last = net.get_layer("prediction")
    last.set_weights([0.3 * rng.standard_normal(w.shape).astype(np.float32) for w in last.get_weights()])
    return net


def test_ddim_with_one_step_is_the_clean_estimate(random_net):
    diffusion = dm.GaussianDiffusion(1000)
    x1 = _first_noise(5, 2)
    eps = keras.ops.convert_to_numpy(random_net([x1, np.ones(2, np.float32)]))
    expected = _to_image(diffusion.clean_estimate(x1, eps, 1.0))
    got = dm.sample(random_net, diffusion, 2, sampler="ddim", steps=1, clip_denoised=False, seed=5)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_euler_with_one_step_is_the_clean_estimate(random_net):
    flow = dm.RectifiedFlow()
    x1 = _first_noise(5, 2)
    v = keras.ops.convert_to_numpy(random_net([x1, np.ones(2, np.float32)]))
    got = dm.sample(random_net, flow, 2, steps=1, seed=5)
    np.testing.assert_allclose(got, _to_image(flow.clean_estimate(x1, v, 1.0)), atol=1e-5)
    np.testing.assert_allclose(got, _to_image(x1 - v), atol=1e-5)


def test_heun_averages_the_two_velocities_except_on_the_last_step(random_net):
    v = lambda x, t: keras.ops.convert_to_numpy(random_net([x, np.full(1, t, np.float32)]))  # noqa: E731
    x1 = _first_noise(2, 1)
    first = v(x1, 1.0)
    x_half = x1 - 0.5 * 0.5 * (first + v(x1 - 0.5 * first, 0.5))  # corrected step from t = 1 to 0.5
    expected = x_half - 0.5 * v(x_half, 0.5)  # plain Euler step from 0.5 to 0
    got = dm.sample(random_net, dm.RectifiedFlow(), 1, sampler="heun", steps=2, seed=2)
    np.testing.assert_allclose(got, _to_image(expected), atol=1e-5)
    one = dm.sample(random_net, dm.RectifiedFlow(), 1, sampler="heun", steps=1, seed=2)
    np.testing.assert_array_equal(one, dm.sample(random_net, dm.RectifiedFlow(), 1, sampler="euler", steps=1, seed=2))


def test_batching_does_not_change_the_samples(random_net):
    whole = dm.sample(random_net, dm.RectifiedFlow(), 6, steps=2, seed=1, batch_size=6)
    assert whole.shape == (6, *SHAPE)
    again = dm.sample(random_net, dm.RectifiedFlow(), 6, steps=2, seed=1, batch_size=6)
    np.testing.assert_array_equal(whole, again)
    parts = dm.sample(random_net, dm.RectifiedFlow(), 6, steps=2, seed=1, batch_size=4)
    assert parts.shape == whole.shape


# -- classifier-free guidance ------------------------------------------------------------------------------------


@pytest.mark.parametrize("guidance", [1.0, 2.0, 0.0])
def test_guidance_combines_conditional_and_unconditional(guidance):
    model = _oracle_model(_LabelConstant(), conditional=True)
    x1 = _first_noise(0, 2)
    got = dm.sample(model, dm.RectifiedFlow(), 2, steps=1, labels=[3, 7], guidance=guidance, seed=0)
    unconditional = 1.0  # the "no label" index 10, times 0.1
    conditional = np.array([0.3, 0.7])[:, None, None, None]
    velocity = unconditional + guidance * (conditional - unconditional)
    np.testing.assert_allclose(got, _to_image(x1 - velocity), atol=1e-6)


def test_no_labels_means_the_unconditional_prediction():
    model = _oracle_model(_LabelConstant(), conditional=True)
    x1 = _first_noise(0, 2)
    got = dm.sample(model, dm.RectifiedFlow(), 2, steps=1, seed=0)
    np.testing.assert_allclose(got, _to_image(x1 - 1.0), atol=1e-6)


def test_network_evaluations():
    assert dm.network_evaluations("heun", 5, guidance=3.0) == 18
    assert dm.network_evaluations("ddpm", 50) == 50


# -- bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "process, kwargs, error, match",
    [
        ("flow", dict(steps=0), ValueError, r"`steps` must be >= 1; received 0"),
        ("flow", dict(sampler="rk4"), ValueError, r"`sampler` must be one of 'euler', 'heun' for a RectifiedFlow"),
        ("flow", dict(sampler="ddpm"), ValueError, r"'ddpm' and 'ddim' sample a GaussianDiffusion"),
        ("diffusion", dict(sampler="euler"), ValueError, r"'euler' and 'heun' sample a RectifiedFlow"),
        ("diffusion", dict(steps=11), ValueError, r"`steps` must be <= the diffusion's 10 steps; received 11"),
        ("flow", dict(guidance=2.0, labels=[1, 2]), ValueError, r"`guidance=2.0` needs a class-conditioned model"),
        ("flow", dict(labels=[1, 2]), ValueError, r"`labels` need a class-conditioned model"),
        ("flow", dict(num_images=0), ValueError, r"`num_images` must be >= 1"),
    ],
)
def test_sample_errors(random_net, process, kwargs, error, match):
    process = dm.RectifiedFlow() if process == "flow" else dm.GaussianDiffusion(10)
    kwargs = {"num_images": 2, **kwargs}
    with pytest.raises(error, match=match):
        dm.sample(random_net, process, kwargs.pop("num_images"), **kwargs)


def test_guidance_needs_labels_and_labels_in_range():
    model = _oracle_model(_LabelConstant(), conditional=True)
    with pytest.raises(ValueError, match=r"`guidance=3.0` needs `labels`"):
        dm.sample(model, dm.RectifiedFlow(), 2, guidance=3.0)
    with pytest.raises(ValueError, match=r"`labels` must lie in \[0, 9\]"):
        dm.sample(model, dm.RectifiedFlow(), 2, labels=[0, 10])
    with pytest.raises(TypeError, match=r"`process` must be a RectifiedFlow or a GaussianDiffusion"):
        dm.sample(model, "flow", 2)


# -- training ---------------------------------------------------------------------------------------------------


@pytest.fixture
def two_digits():
    """Two 8x8 images (a bar and a square) with labels 0 and 1."""
    images = np.zeros((2, *SHAPE), np.float32)
    images[0, :, 3:5] = 1.0
    images[1, 2:6, 2:6] = 1.0
    return images, np.array([0, 1])


def _small_net(conditional=True):
    return dm.build_denoising_unet(
        image_shape=SHAPE, num_filters=8, levels=1, embedding_dim=16, num_classes=2 if conditional else None, seed=0
    )


def test_training_lowers_the_loss_and_leaves_the_average_in_the_model(two_digits):
    images, labels = two_digits
    net = _small_net()
    run = dm.train_denoiser(
        net, dm.RectifiedFlow(), images, labels, steps=60, steps_per_epoch=20, batch_size=16, learning_rate=3e-3,
        ema_momentum=0.9, seed=0,
    )  # fmt: skip
    assert run.steps == 60 and len(run.history["loss"]) == 3
    assert run.history["loss"][-1] < 0.8 * run.history["loss"][0]
    assert run.seconds > 0 and run.cpu_seconds > 0
    averages = [keras.ops.convert_to_numpy(v) for v in net.optimizer._model_variables_moving_average]
    for variable, average in zip(net.trainable_variables, averages):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), average, atol=1e-7)


def test_moving_average_differs_from_the_last_weights(two_digits):
    images, labels = two_digits
    plain, averaged = _small_net(), _small_net()
    kwargs = dict(steps=20, batch_size=8, learning_rate=3e-3, decay=False, seed=0)
    dm.train_denoiser(plain, dm.RectifiedFlow(), images, labels, ema_momentum=0.0, **kwargs)
    dm.train_denoiser(averaged, dm.RectifiedFlow(), images, labels, ema_momentum=0.9, **kwargs)
    w_plain = keras.ops.convert_to_numpy(plain.get_layer("prediction").kernel)
    w_avg = keras.ops.convert_to_numpy(averaged.get_layer("prediction").kernel)
    assert not np.allclose(w_plain, w_avg)


def test_training_is_repeatable(two_digits):
    images, labels = two_digits
    weights = []
    for _ in range(2):
        net = _small_net()
        dm.train_denoiser(net, dm.GaussianDiffusion(50), images, labels, steps=6, steps_per_epoch=3, batch_size=8, seed=1)
        weights.append(keras.ops.convert_to_numpy(net.get_layer("prediction").kernel))
    np.testing.assert_array_equal(weights[0], weights[1])


def test_snapshots_are_taken_each_interval(two_digits):
    images, labels = two_digits
    snapshots = dm.SampleSnapshots(dm.RectifiedFlow(), 2, steps_per_epoch=5, labels=[0, 1], steps=2)
    dm.train_denoiser(_small_net(), dm.RectifiedFlow(), images, labels, steps=10, steps_per_epoch=5, callbacks=[snapshots])
    assert sorted(snapshots.images) == [5, 10]
    assert snapshots.images[10].shape == (2, *SHAPE)


@pytest.mark.parametrize(
    "conditional, kwargs, match",
    [
        (True, dict(steps=10, steps_per_epoch=3), r"`steps` \(10\) must be a multiple of `steps_per_epoch` \(3\)"),
        (True, dict(steps=10, learning_rate=0.0), r"`learning_rate` must be > 0"),
        (True, dict(steps=10, ema_momentum=1.0), r"`ema_momentum` must be < 1"),
        (True, dict(steps=10, labels=None), r"The model needs `labels`; conditioned on 2 classes"),
        (False, dict(steps=10), r"has no label input, so `labels` must be None"),
    ],
)
def test_train_errors(two_digits, conditional, kwargs, match):
    images, labels = two_digits
    kwargs = {"labels": labels, **kwargs}
    with pytest.raises(ValueError, match=match):
        dm.train_denoiser(_small_net(conditional), dm.RectifiedFlow(), images, **kwargs)


# -- the ideal denoiser of a finite set ---------------------------------------------------------------------------


@pytest.fixture
def few_images(rng):
    return rng.random((5, *SHAPE)).astype(np.float32)


@pytest.mark.parametrize("process", [dm.RectifiedFlow(), dm.GaussianDiffusion(200, schedule="cosine")])
def test_ideal_denoiser_at_pure_noise_is_the_mean_image(few_images, rng, process):
    layer = dm.build_ideal_denoiser(few_images, process).get_layer("posterior_mean")
    noise = rng.standard_normal((3, *SHAPE)).astype(np.float32)
    t = np.ones(3, np.float32)
    estimate = keras.ops.convert_to_numpy(layer.clean_estimate(noise, t))
    signal = process.levels(1.0)[0]
    if signal == 0:
        np.testing.assert_allclose(estimate, np.broadcast_to((few_images * 2 - 1).mean(0), estimate.shape), atol=1e-5)
    else:  # the cosine schedule leaves sqrt(abar_T) = 7e-5 of signal: the weights are nearly equal
        np.testing.assert_allclose(estimate, np.broadcast_to((few_images * 2 - 1).mean(0), estimate.shape), atol=1e-3)


def test_ideal_denoiser_matches_the_softmax_formula(few_images, rng):
    flow = dm.RectifiedFlow()
    model = dm.build_ideal_denoiser(few_images, flow)
    data = (few_images * 2 - 1).reshape(5, -1).astype(np.float64)
    x = rng.standard_normal((2, *SHAPE)).astype(np.float32)
    t = np.array([0.3, 0.8], np.float32)
    got = keras.ops.convert_to_numpy(model([x, t]))
    for i in range(2):
        flat = x[i].reshape(-1).astype(np.float64)
        logits = -((flat - (1 - t[i]) * data) ** 2).sum(1) / (2 * t[i] ** 2)
        w = np.exp(logits - logits.max())
        x0 = (w / w.sum()) @ data
        np.testing.assert_allclose(got[i].reshape(-1), (flat - x0) / t[i], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("process, sampler", [(dm.RectifiedFlow(), "euler"), (dm.GaussianDiffusion(100), "ddim")])
def test_sampling_the_ideal_denoiser_copies_a_training_image(few_images, process, sampler):
    model = dm.build_ideal_denoiser(few_images, process)
    samples = dm.sample(model, process, 6, sampler=sampler, steps=30, seed=0)
    distances = np.sqrt(((samples[:, None] - few_images[None]) ** 2).sum(axis=(2, 3, 4)))
    np.testing.assert_allclose(distances.min(axis=1), 0.0, atol=1e-3)


def test_ideal_denoiser_errors(few_images):
    with pytest.raises(TypeError, match=r"`process` must be a RectifiedFlow or a GaussianDiffusion"):
        dm.build_ideal_denoiser(few_images, "flow")
    with pytest.raises(ValueError, match=r"`images` must have values in \[0.0, 1.0\]"):
        dm.build_ideal_denoiser(few_images * 2 - 1, dm.RectifiedFlow())


def test_default_dtype_policy_reads_the_cpu_flags():
    assert dm.default_dtype_policy(cpu_flags="fpu sse avx2 avx512f") is None
    assert dm.default_dtype_policy(cpu_flags="avx2 avx512_bf16") == "mixed_bfloat16"
    assert dm.default_dtype_policy(cpu_flags="amx_tile amx_bf16") == "mixed_bfloat16"
    assert dm.default_dtype_policy(gpu=True, cpu_flags="") == "mixed_bfloat16"
    assert dm.default_dtype_policy() in (None, "mixed_bfloat16")  # this machine's /proc/cpuinfo
