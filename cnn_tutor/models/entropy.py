"""Entropy models of a learned codec: the probability of each quantised latent, and its coding tables.

A codec's rate is the code length of its quantised latents,
``-sum log2 p(y_hat)`` bits, so it needs a probability model that the
encoder and the decoder share.  Two kinds, both learned:

- :class:`FactorizedEntropyModel`: one distribution per channel, the same
  at every position (the "fully factorised" prior of Balle et al. 2018,
  a small monotone network per channel for the cumulative distribution);
- :class:`GaussianConditional`: a Gaussian for each latent whose mean and
  scale are predicted from side information (the mean-scale hyperprior of
  Balle et al. 2018 and Minnen et al. 2018), so the model adapts to each
  region of the image: a flat region's latents get a small scale and cost
  almost nothing, an edge's a large one.

Both replace rounding by additive uniform noise in training (the density of
``y + u``, ``u ~ U(-1/2, 1/2)``, equals the probability mass of rounding)
and round at test time.  For coding, :func:`factorized_tables` and
:func:`gaussian_tables` turn them into the integer frequency tables of
:mod:`cnn_tutor.coding`.

Used by :mod:`cnn_tutor.models.codec` (Photographs chapter).
"""

import typing

import keras
import numpy as np
import scipy.special
from keras import ops

from cnn_tutor import _validation, coding

__all__ = [
    "DISTRIBUTIONS",
    "LIKELIHOOD_BOUND",
    "SCALE_BOUNDS",
    "SCALE_TABLE",
    "CodingTables",
    "FactorizedEntropyModel",
    "GaussianConditional",
    "factorized_tables",
    "gaussian_tables",
    "scale_indices",
]

#: Smallest likelihood used in the rate (so a latent never costs more than about 30 bits).
LIKELIHOOD_BOUND = 1e-9
#: Smallest and largest scale of :class:`GaussianConditional`.
SCALE_BOUNDS = (0.11, 64.0)
#: The scales for which :func:`gaussian_tables` builds tables (64, evenly spaced in log).
SCALE_TABLE = np.exp(np.linspace(np.log(SCALE_BOUNDS[0]), np.log(SCALE_BOUNDS[1]), 64))


class CodingTables(typing.NamedTuple):
    """Integer probability tables shared by encoder and decoder, for :func:`cnn_tutor.coding.encode_values`.

    Row ``r`` stands for the values ``offsets[r]``, ``offsets[r] + 1``, ...;
    its last positive column is the escape, which carries the probability
    of every value outside that range (sent with bypass bits).
    """

    #: int64 ``(rows, size)`` frequencies, each row summing to ``2**precision``.
    freqs: np.ndarray
    #: int64 ``(rows,)``: the value of column 0 of each row.
    offsets: np.ndarray
    #: Bits of the tables.
    precision: int


@keras.saving.register_keras_serializable(package="cnn_tutor")
class FactorizedEntropyModel(keras.layers.Layer):
    """Quantise latents and give their likelihood under a learned, per-channel distribution.

    Each channel ``c`` has its own cumulative distribution function
    ``F_c(y) = sigmoid(f_K(... f_1(y)))``, a monotone network of scalars
    (Balle et al. 2018, appendix 6.1): ``f_k(x) = h(H_k x + b_k)`` with
    ``H_k = softplus(.) >= 0`` and ``h(x) = x + tanh(a_k) * tanh(x)``, so
    ``F_c`` rises from 0 to 1.  The likelihood of a latent is the mass of
    the unit interval around it, ``p(y) = F_c(y + 1/2) - F_c(y - 1/2)``.

    Parameters
    ----------
    filters : sequence of int
        Widths of the hidden layers of each channel's network.
    init_scale : float
        Initial spread of the distributions (in latent units).
    seed : int, optional
        Seed of the training noise and the initial biases (default: drawn
        from Keras' global seed).

    Notes
    -----
    Called on latents ``(batch, height, width, channels)`` with
    ``training=True`` it adds uniform noise, with ``training=False`` it
    rounds; either way it returns ``(quantised, likelihoods)``, both shaped
    like the input.

    Examples
    --------
    >>> model = FactorizedEntropyModel(filters=(3,))
    >>> y = np.array([[[[0.2, -1.7]]]], dtype="float32")
    >>> y_hat, p = model(y, training=False)
    >>> keras.ops.convert_to_numpy(y_hat).tolist()
    [[[[0.0, -2.0]]]]
    >>> bool((keras.ops.convert_to_numpy(p) > 0).all() and (keras.ops.convert_to_numpy(p) <= 1).all())
    True
    """

    def __init__(self, filters=(3, 3, 3), init_scale=10.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(filters, int) or not isinstance(filters, (tuple, list)):
            raise TypeError(f"`filters` must be a sequence of ints, for example (3, 3, 3); received {filters!r}.")
        self.filters = tuple(_validation.check_int(f"filters[{i}]", f, minimum=1) for i, f in enumerate(filters))
        self.init_scale = _validation.check_float("init_scale", init_scale)
        if self.init_scale <= 0:
            raise ValueError(f"`init_scale` must be > 0; received {init_scale}.")
        self.seed = None if seed is None else _validation.check_int("seed", seed, minimum=0)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("FactorizedEntropyModel needs a known number of channels in the last axis.")
        self.channels = int(channels)
        widths = (1, *self.filters, 1)
        scale = self.init_scale ** (1.0 / (len(self.filters) + 1))
        self.matrices, self.biases, self.factors = [], [], []
        for index in range(len(widths) - 1):
            start = float(np.log(np.expm1(1.0 / scale / widths[index + 1])))
            self.matrices.append(
                self.add_weight(
                    name=f"matrix{index}",
                    shape=(self.channels, widths[index + 1], widths[index]),
                    initializer=keras.initializers.Constant(start),
                )
            )
            self.biases.append(
                self.add_weight(
                    name=f"bias{index}",
                    shape=(self.channels, widths[index + 1], 1),
                    initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed=self.seed),
                )
            )
            if index < len(widths) - 2:
                self.factors.append(
                    self.add_weight(
                        name=f"factor{index}", shape=(self.channels, widths[index + 1], 1), initializer="zeros"
                    )
                )

    def logits_cumulative(self, values):
        """``logit F_c(v)`` for values shaped ``(channels, 1, n)``; returns the same shape."""
        x = values
        for index, matrix in enumerate(self.matrices):
            x = ops.matmul(ops.softplus(matrix), x) + self.biases[index]
            if index < len(self.factors):
                x = x + ops.tanh(self.factors[index]) * ops.tanh(x)
        return x

    def likelihood(self, values):
        """``F(v + 1/2) - F(v - 1/2)`` for latents ``(..., channels)``, computed stably, bounded below."""
        shape = ops.shape(values)
        flat = ops.transpose(ops.reshape(values, (-1, self.channels)))[:, None, :]
        lower = self.logits_cumulative(flat - 0.5)
        upper = self.logits_cumulative(flat + 0.5)
        # Take the difference on the side of the median, where the two sigmoids are not both close to 1.
        sign = ops.stop_gradient(-ops.sign(lower + upper))
        mass = ops.abs(ops.sigmoid(sign * upper) - ops.sigmoid(sign * lower))
        mass = ops.maximum(mass, LIKELIHOOD_BOUND)
        return ops.reshape(ops.transpose(mass[:, 0, :]), shape)

    def call(self, inputs, training=False):
        if training:
            noise = keras.random.uniform(ops.shape(inputs), -0.5, 0.5, seed=self.seed_generator, dtype=inputs.dtype)
            quantised = inputs + noise
        else:
            quantised = ops.round(inputs)
        return quantised, self.likelihood(quantised)

    def compute_output_spec(self, inputs, training=False):
        return keras.KerasTensor(inputs.shape, dtype=inputs.dtype), keras.KerasTensor(inputs.shape, dtype=inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters), "init_scale": self.init_scale, "seed": self.seed}


def _standard_normal_cdf(x):
    return 0.5 * (1.0 + ops.erf(x / np.sqrt(2.0)))


def _standard_laplace_cdf(x):
    # 0.5 exp(x) below 0, 1 - 0.5 exp(-x) above; exp of -|x| only, so nothing overflows.
    half_tail = 0.5 * ops.exp(-ops.abs(x))
    return ops.where(x < 0, half_tail, 1.0 - half_tail)


#: The distributions of :class:`GaussianConditional` and their standard cumulative distribution functions.
DISTRIBUTIONS = {"gaussian": _standard_normal_cdf, "laplace": _standard_laplace_cdf}


@keras.saving.register_keras_serializable(package="cnn_tutor")
class GaussianConditional(keras.layers.Layer):
    """Quantise latents around a predicted mean, and give their likelihood under a predicted Gaussian.

    Call it on ``[latents, parameters]``, where ``parameters`` has twice the
    channels of ``latents``: the first half the means ``mu``, the second the
    logarithms of the scales ``sigma`` (clipped to :data:`SCALE_BOUNDS`).
    At test time the latent becomes ``mu + round(y - mu)`` (what the coder
    sends is the integer ``round(y - mu)``); in training, ``y + u``.  The
    likelihood is the Gaussian mass of the unit interval around it,

    ``p = Phi((r + 1/2) / sigma) - Phi((r - 1/2) / sigma)``, ``r = |y_hat - mu|``.

    Parameters
    ----------
    distribution : {"gaussian", "laplace"}
        The family of the conditional distributions (Laplace fits the
        heavy tails of transform coefficients better).
    seed : int, optional
        Seed of the training noise.

    Notes
    -----
    Returns ``(quantised, likelihoods)``, both shaped like the latents.

    Examples
    --------
    >>> layer = GaussianConditional()
    >>> y = np.array([[[[0.3, 2.6]]]], "float32")
    >>> params = np.array([[[[0.0, 2.0, 0.0, 0.0]]]], "float32")   # means 0 and 2, scales 1
    >>> y_hat, p = layer([y, params])
    >>> keras.ops.convert_to_numpy(y_hat).tolist(), keras.ops.convert_to_numpy(p).round(4).tolist()
    ([[[[0.0, 3.0]]]], [[[[0.3829, 0.2417]]]])
    """

    def __init__(self, distribution="gaussian", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.distribution = _validation.check_choice("distribution", distribution, tuple(DISTRIBUTIONS))
        self.seed = None if seed is None else _validation.check_int("seed", seed, minimum=0)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    @staticmethod
    def split(parameters):
        """``parameters`` -> ``(means, scales)``, the scales clipped to :data:`SCALE_BOUNDS`."""
        channels = ops.shape(parameters)[-1] // 2
        means, log_scales = parameters[..., :channels], parameters[..., channels:]
        scales = ops.exp(ops.clip(log_scales, float(np.log(SCALE_BOUNDS[0])), float(np.log(SCALE_BOUNDS[1]))))
        return means, scales

    def likelihood(self, quantised, means, scales):
        """Gaussian mass of ``[quantised - 1/2, quantised + 1/2]``, bounded below by :data:`LIKELIHOOD_BOUND`."""
        cdf = DISTRIBUTIONS[self.distribution]
        distance = ops.abs(quantised - means)
        upper = cdf((0.5 - distance) / scales)
        lower = cdf((-0.5 - distance) / scales)
        return ops.maximum(upper - lower, LIKELIHOOD_BOUND)

    def call(self, inputs, training=False):
        latents, parameters = inputs
        means, scales = self.split(parameters)
        if training:
            noise = keras.random.uniform(ops.shape(latents), -0.5, 0.5, seed=self.seed_generator, dtype=latents.dtype)
            quantised = latents + noise
        else:
            quantised = means + ops.round(latents - means)
        return quantised, self.likelihood(quantised, means, scales)

    def compute_output_spec(self, inputs, training=False):
        latents = inputs[0]
        return keras.KerasTensor(latents.shape, dtype=latents.dtype), keras.KerasTensor(latents.shape, dtype=latents.dtype)

    def get_config(self):
        return {**super().get_config(), "distribution": self.distribution, "seed": self.seed}


def factorized_tables(layer, *, max_value=255, tail_mass=1e-6, precision=coding.PRECISION):
    """Integer tables of each channel of a :class:`FactorizedEntropyModel`, one row per channel.

    Each channel's distribution is evaluated at the integers; its range is
    cut where the mass beyond each end falls below ``tail_mass``, and the
    mass of both tails goes to the escape column (values outside the range
    are coded with bypass bits, so nothing is clipped).  The probabilities
    are rounded to frequencies summing to ``2**precision``
    (:func:`cnn_tutor.coding.quantize_pmf`).

    Parameters
    ----------
    layer : FactorizedEntropyModel
        A built layer.
    max_value : int
        Largest magnitude considered.
    tail_mass : float
        Probability left outside the support at each end.
    precision : int
        Bits of the tables.

    Returns
    -------
    CodingTables

    Examples
    --------
    >>> layer = FactorizedEntropyModel(seed=0); layer.build((None, None, None, 2))
    >>> tables = factorized_tables(layer)
    >>> tables.freqs.shape[0], bool((tables.freqs.sum(axis=1) == 2**16).all())
    (2, True)
    """
    if not isinstance(layer, FactorizedEntropyModel) or not layer.built:
        raise TypeError(f"`layer` must be a built FactorizedEntropyModel; received {type(layer).__name__}.")
    max_value = _validation.check_int("max_value", max_value, minimum=1)
    tail_mass = _validation.check_float("tail_mass", tail_mass, minimum=0.0, maximum=0.5)
    grid = np.arange(-max_value, max_value + 1, dtype="float32")
    halves = np.concatenate([grid - 0.5, grid[-1:] + 0.5])  # k - 1/2 for every k, and the last k + 1/2
    values = np.broadcast_to(halves, (layer.channels, 1, halves.size)).astype("float32")
    logits = ops.convert_to_numpy(layer.logits_cumulative(ops.convert_to_tensor(values)))[:, 0, :]
    cdf = scipy.special.expit(logits.astype(np.float64))  # F(k - 1/2) for each k, then F(max + 1/2)
    pmfs, offsets = [], []
    for F in cdf:
        low = int(np.argmax(F[1:] > tail_mass))  # first k with F(k + 1/2) > tail
        above = np.flatnonzero(F[:-1] < 1.0 - tail_mass)  # k with F(k - 1/2) < 1 - tail
        high = max(int(above[-1]) if above.size else len(grid) - 1, low)
        pmf = np.diff(F[low : high + 2])
        escape = F[low] + 1.0 - F[high + 1]  # the mass below and above the range
        pmfs.append(np.append(np.maximum(pmf, 0.0), max(escape, 1e-12)))
        offsets.append(int(grid[low]))
    return _tables(pmfs, offsets, precision)


def _tables(pmfs, offsets, precision):
    width = max(len(pmf) for pmf in pmfs)
    padded = np.zeros((len(pmfs), width))
    for index, pmf in enumerate(pmfs):
        padded[index, : len(pmf)] = pmf
    freqs = coding.quantize_pmf(padded, precision=precision)
    return CodingTables(freqs=freqs, offsets=np.asarray(offsets, dtype=np.int64), precision=int(precision))


def gaussian_tables(scales=SCALE_TABLE, *, distribution="gaussian", tail_mass=1e-6, precision=coding.PRECISION):
    """Integer tables of zero-mean Gaussians of the given ``scales``, for the residuals ``round(y - mu)``.

    Row ``s`` covers the integers ``-R_s ... R_s``, with ``R_s`` the
    smallest where the Gaussian mass beyond ``R_s + 1/2`` is below
    ``tail_mass``; the mass of both tails goes to the escape column.

    Examples
    --------
    >>> tables = gaussian_tables([0.5, 2.0])
    >>> tables.offsets.tolist(), (tables.freqs > 0).sum(axis=1).tolist()   # 2 R + 1 values and the escape
    ([-2, -10], [6, 22])
    """
    scales = _validation.as_float_array("scales", scales).ravel()
    if scales.size == 0 or np.any(scales <= 0) or not np.all(np.isfinite(scales)):
        raise ValueError("`scales` must be a non-empty array of positive, finite scales.")
    _validation.check_choice("distribution", distribution, tuple(DISTRIBUTIONS))
    tail_mass = _validation.check_float("tail_mass", tail_mass, minimum=1e-300, maximum=0.5)
    if distribution == "gaussian":
        quantile, cdf_of = -scipy.special.ndtri(tail_mass), scipy.special.ndtr
    else:
        quantile = -np.log(2.0 * tail_mass)

        def cdf_of(t):
            return np.where(t < 0, 0.5 * np.exp(-np.abs(t)), 1.0 - 0.5 * np.exp(-np.abs(t)))

    pmfs, offsets = [], []
    for scale in scales:
        # Smallest R with P(X > R + 1/2) <= tail_mass, found on the integers.
        radius = int(np.ceil(max(0.0, quantile * scale - 0.5)))
        edges = np.arange(-radius, radius + 2) - 0.5  # -R - 1/2 ... R + 1/2
        cdf = cdf_of(edges / scale)
        pmf = np.diff(cdf)
        pmfs.append(np.append(pmf, max(cdf[0] + 1.0 - cdf[-1], 1e-12)))
        offsets.append(-radius)
    return _tables(pmfs, offsets, precision)


def scale_indices(scales, table=SCALE_TABLE):
    """Row of :func:`gaussian_tables` for each scale: the largest table scale not above it (0 below the first).

    Examples
    --------
    >>> scale_indices([0.05, 0.11, 1.0, 100.0]).tolist()
    [0, 0, 21, 63]
    """
    scales = _validation.as_float_array("scales", scales)
    table = _validation.as_float_array("table", table).ravel()
    return np.clip(np.searchsorted(table, scales, side="right") - 1, 0, len(table) - 1).astype(np.int64)
