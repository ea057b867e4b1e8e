"""The two ways of noising images that the chapter trains a U-Net to undo, and their training batches.

Both write a noisy image at time ``t`` in [0, 1] as
``x_t = signal(t) * x + noise(t) * eps`` with ``eps ~ N(0, I)``; ``t = 0``
is the clean image (in [-1, 1]) and ``t = 1`` (almost) pure noise.

- :class:`RectifiedFlow` (flow matching, 流匹配; Lipman et al. 2023, Liu et
  al. 2023): the straight path ``x_t = (1 - t) x + t eps``; the network
  learns its velocity ``dx_t / dt = eps - x``.
- :class:`GaussianDiffusion` (DDPM, 扩散模型; Ho et al. 2020): ``T``
  discrete steps with ``alpha_bar_k = prod_{j <= k} (1 - beta_j)``, signal
  ``sqrt(alpha_bar)`` and noise ``sqrt(1 - alpha_bar)``, a linear or cosine
  schedule of ``beta``; the network learns the noise ``eps``.

(Lipman et al. and Liu et al. run time the other way, ``t = 1`` for data;
here both families share the diffusion convention.)

:class:`DenoisingBatches` is a ``keras.utils.PyDataset`` that draws fresh
images, times, noise and (dropped) labels for every batch, so a plain
``model.fit`` with a mean-squared-error loss trains either objective, on any
Keras backend.
"""

import keras
import numpy as np

from cnn_tutor import _validation
from cnn_tutor.models.diffusion import _common

__all__ = ["SCHEDULES", "DenoisingBatches", "GaussianDiffusion", "RectifiedFlow"]

#: The beta schedules of :class:`GaussianDiffusion`.
SCHEDULES = ("linear", "cosine")


def _per_image(t):
    """A time as a factor that broadcasts over ``(batch, height, width, channels)``."""
    if isinstance(t, (int, float, np.floating, np.integer)):
        return float(t)
    if isinstance(t, np.ndarray):
        return t.reshape(-1, 1, 1, 1).astype(np.float32)
    return keras.ops.reshape(keras.ops.cast(t, "float32"), (-1, 1, 1, 1))


class RectifiedFlow:
    """The straight path from an image to noise, ``x_t = (1 - t) x + t eps``, and its velocity ``eps - x``.

    Along the path the image moves at the constant velocity
    ``dx_t / dt = eps - x``.  A network trained to predict it from
    ``(x_t, t)`` with a squared error learns the *average* velocity of all the
    paths that pass through ``x_t`` (the flow-matching objective of Lipman et
    al. 2023; rectified flow of Liu et al. 2023), and integrating that
    velocity field from ``t = 1`` (noise) to ``t = 0`` carries noise to
    images (samplers ``"euler"`` and ``"heun"`` in
    :func:`cnn_tutor.models.diffusion.sample`).

    Parameters
    ----------
    time_sampling : {"uniform", "logit_normal"}
        How training draws ``t``: uniform in [0, 1], or ``sigmoid(n)`` with
        ``n ~ N(0, 1)``, which trains the middle times more (Esser et al. 2024).

    Examples
    --------
    >>> flow = RectifiedFlow()
    >>> x, eps = np.full((1, 2, 2, 1), 0.5), np.full((1, 2, 2, 1), -1.0)
    >>> float(flow.corrupt(x, eps, 0.0)[0, 0, 0, 0]), float(flow.corrupt(x, eps, 1.0)[0, 0, 0, 0])
    (0.5, -1.0)
    >>> float(flow.target(x, eps, 0.3)[0, 0, 0, 0])  # eps - x, whatever t
    -1.5
    """

    #: What the network predicts.
    prediction = "velocity"
    #: The samplers of :func:`cnn_tutor.models.diffusion.sample` for this process.
    samplers = ("euler", "heun")
    #: Names of the ``time_sampling`` options.
    TIME_SAMPLING = ("uniform", "logit_normal")

    def __init__(self, *, time_sampling="uniform"):
        self.time_sampling = _validation.check_choice("time_sampling", time_sampling, self.TIME_SAMPLING)

    def __repr__(self):
        return f"RectifiedFlow(time_sampling={self.time_sampling!r})"

    def levels(self, t):
        """``(signal, noise)`` at times ``t``: ``(1 - t, t)``."""
        t = np.asarray(t, dtype=np.float64)
        return 1.0 - t, t

    def sample_times(self, rng, size):
        """``size`` training times in [0, 1] (float32), drawn with the NumPy generator ``rng``."""
        if self.time_sampling == "uniform":
            return rng.random(size).astype(np.float32)
        return (1.0 / (1.0 + np.exp(-rng.standard_normal(size)))).astype(np.float32)

    def corrupt(self, images, noise, t):
        """``x_t = (1 - t) x + t eps`` (images in [-1, 1]; ``t`` a number or one per image)."""
        t = _per_image(t)
        return (1.0 - t) * images + t * noise

    def target(self, images, noise, t):
        """What the network learns: the velocity ``eps - x`` (``t`` is not needed)."""
        return noise - images

    def clean_estimate(self, noisy, prediction, t):
        """The image the prediction points to, ``x_t - t v`` (where the path reaches ``t = 0``)."""
        return noisy - _per_image(t) * prediction

    def noise_estimate(self, noisy, prediction, t):
        """The noise the prediction points to, ``x_t + (1 - t) v`` (where the path reaches ``t = 1``)."""
        return noisy + (1.0 - _per_image(t)) * prediction


class GaussianDiffusion:
    """DDPM's noising in ``num_steps`` steps, ``x_k = sqrt(abar_k) x + sqrt(1 - abar_k) eps``; the network predicts ``eps``.

    ``abar_k = prod_{j=1..k} (1 - beta_j)`` with ``abar_0 = 1`` (the clean
    image).  The network sees the time ``t = k / num_steps``.

    Parameters
    ----------
    num_steps : int
        ``T``, the number of noising steps (Ho et al. 2020: 1,000).
    schedule : {"linear", "cosine"}
        ``"linear"``: ``beta`` from ``beta_start`` to ``beta_end`` (Ho et al.
        2020); ``"cosine"``: ``abar(t) = cos^2(pi/2 (t + s) / (1 + s))``
        normalised to ``abar(0) = 1``, ``s = 0.008``, ``beta <= 0.999``
        (Nichol and Dhariwal 2021).
    beta_start, beta_end : float
        The linear schedule's ends.

    Attributes
    ----------
    betas : numpy.ndarray
        ``(num_steps,)`` float64.
    alpha_bars : numpy.ndarray
        ``(num_steps + 1,)`` float64, ``alpha_bars[0] = 1``.

    Examples
    --------
    >>> diffusion = GaussianDiffusion(num_steps=1000)
    >>> signal, noise = diffusion.levels([0.0, 1.0])
    >>> np.round(signal, 4), np.round(noise, 4)  # clean at t = 0, almost pure noise at t = 1
    (array([1.    , 0.0064]), array([0., 1.]))
    >>> GaussianDiffusion(schedule="quadratic")
    Traceback (most recent call last):
    ...
    ValueError: `schedule` must be one of 'linear', 'cosine'; received 'quadratic'.
    """

    prediction = "noise"
    samplers = ("ddpm", "ddim")

    def __init__(self, num_steps=1000, *, schedule="linear", beta_start=1e-4, beta_end=0.02):
        self.num_steps = _validation.check_int("num_steps", num_steps, minimum=1)
        self.schedule = _validation.check_choice("schedule", schedule, SCHEDULES)
        beta_start = _validation.check_float("beta_start", beta_start, minimum=0.0, maximum=1.0)
        beta_end = _validation.check_float("beta_end", beta_end, minimum=0.0, maximum=1.0)
        if schedule == "linear":
            if not 0 < beta_start <= beta_end < 1:
                raise ValueError(
                    f"The linear schedule needs 0 < `beta_start` <= `beta_end` < 1; received {beta_start} and "
                    f"{beta_end}. Ho et al. use 1e-4 and 0.02."
                )
            self.betas = np.linspace(beta_start, beta_end, self.num_steps, dtype=np.float64)
        else:
            s = 0.008
            grid = np.arange(self.num_steps + 1, dtype=np.float64) / self.num_steps
            f = np.cos((grid + s) / (1 + s) * np.pi / 2) ** 2
            self.betas = np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
        self.beta_start, self.beta_end = beta_start, beta_end
        self.alpha_bars = np.concatenate([[1.0], np.cumprod(1.0 - self.betas)])

    def __repr__(self):
        return f"GaussianDiffusion(num_steps={self.num_steps}, schedule={self.schedule!r})"

    def step_of(self, t):
        """The integer step ``k = round(t * num_steps)`` of times ``t`` in [0, 1]."""
        t = np.asarray(t, dtype=np.float64)
        if np.any((t < 0) | (t > 1)):
            raise ValueError(f"`t` must lie in [0, 1]; received values in [{t.min():.4g}, {t.max():.4g}].")
        return np.rint(t * self.num_steps).astype(np.int64)

    def levels(self, t):
        """``(signal, noise) = (sqrt(abar_k), sqrt(1 - abar_k))`` at times ``t = k / num_steps``."""
        alpha_bar = self.alpha_bars[self.step_of(t)]
        return np.sqrt(alpha_bar), np.sqrt(1.0 - alpha_bar)

    def sample_times(self, rng, size):
        """``size`` training times ``k / num_steps`` with ``k`` uniform in 1..num_steps (float32)."""
        return (rng.integers(1, self.num_steps + 1, size) / self.num_steps).astype(np.float32)

    def _factors(self, t):
        signal, noise = self.levels(t)
        if signal.ndim == 0:
            return float(signal), float(noise)
        return _per_image(signal.astype(np.float32)), _per_image(noise.astype(np.float32))

    def corrupt(self, images, noise, t):
        """``sqrt(abar) x + sqrt(1 - abar) eps`` (images in [-1, 1]; ``t`` a number or one per image)."""
        signal, sigma = self._factors(t)
        return signal * images + sigma * noise

    def target(self, images, noise, t):
        """What the network learns: the noise ``eps``."""
        return noise

    def clean_estimate(self, noisy, prediction, t):
        """``(x_t - sqrt(1 - abar) eps_hat) / sqrt(abar)``: the image the predicted noise leaves."""
        signal, sigma = self._factors(t)
        if np.any(np.asarray(self.levels(t)[0]) == 0):
            raise ValueError("The clean image is not defined where the signal level is 0 (`t` at a step with abar = 0).")
        return (noisy - sigma * prediction) / signal

    def noise_estimate(self, noisy, prediction, t):
        """The predicted noise itself."""
        return prediction


class DenoisingBatches(keras.utils.PyDataset):
    """Training batches for a denoiser: ``((x_t, t[, label]), target)`` with fresh noise every batch.

    Each batch draws ``batch_size`` training images with replacement, a time
    per image (``process.sample_times``), Gaussian noise, and returns the
    noisy images ``process.corrupt(x, eps, t)`` with the target
    ``process.target(x, eps, t)``.  With labels, each label is replaced by
    the "no label" index ``num_classes`` with probability ``label_dropout``
    (classifier-free guidance, Ho and Salimans 2022).  Batch ``i`` of epoch
    ``e`` comes from ``numpy.random.default_rng((seed, e, i))``, so training
    is repeatable whatever order Keras asks for the batches in.

    Parameters
    ----------
    process : RectifiedFlow or GaussianDiffusion
        The noising whose reverse is learned.
    images : array_like
        ``(n, height, width, channels)`` in [0, 1].
    labels : array_like, optional
        ``(n,)`` integer classes (for a class-conditioned network).
    batch_size : int
        Images per batch.
    steps_per_epoch : int
        Batches per epoch (an "epoch" here is a reporting interval).
    label_dropout : float
        Probability of dropping a label, in [0, 1).
    num_classes : int
        Number of classes; the "no label" index.
    seed : int, optional
        Default: the runtime's seed.

    Examples
    --------
    Black images are -1 in the model's range, so the flow's target is
    ``eps + 1`` and the noisy image ``-(1 - t) + t eps``:

    >>> images = np.zeros((4, 8, 8, 1), "float32")
    >>> batches = DenoisingBatches(RectifiedFlow(), images, batch_size=3, steps_per_epoch=2, seed=0)
    >>> (noisy, t), target = batches[0]
    >>> noisy.shape, t.shape, len(batches)
    ((3, 8, 8, 1), (3,), 2)
    >>> eps, t4 = target - 1.0, t[:, None, None, None]
    >>> bool(np.allclose(noisy, -(1 - t4) + t4 * eps, atol=1e-6))
    True
    """

    def __init__(
        self,
        process,
        images,
        labels=None,
        *,
        batch_size=64,
        steps_per_epoch=100,
        label_dropout=0.0,
        num_classes=10,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(process, (RectifiedFlow, GaussianDiffusion)):
            raise TypeError(f"`process` must be a RectifiedFlow or a GaussianDiffusion; received {process!r}.")
        self.process = process
        self.images = _common.to_model_range(_validation.check_images("images", images))
        if len(self.images) == 0:
            raise ValueError("`images` must hold at least one image; received an empty batch.")
        self.num_classes = _validation.check_int("num_classes", num_classes, minimum=2)
        self.labels = None
        if labels is not None:
            self.labels = _validation.check_labels("labels", labels, num_classes=self.num_classes, length=len(self.images))
        self.batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
        self.steps_per_epoch = _validation.check_int("steps_per_epoch", steps_per_epoch, minimum=1)
        self.label_dropout = _validation.check_float("label_dropout", label_dropout, minimum=0.0, maximum=1.0)
        if self.label_dropout == 1.0:
            raise ValueError("`label_dropout` must be < 1 (1 drops every label: train without labels instead).")
        if self.label_dropout > 0 and self.labels is None:
            raise ValueError(f"`label_dropout={label_dropout}` needs `labels`; received labels=None.")
        self.seed = _common.resolve_seed(seed)
        self.epoch = 0

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rng = np.random.default_rng((self.seed, self.epoch, int(index)))
        chosen = rng.integers(0, len(self.images), self.batch_size)
        x = self.images[chosen]
        t = self.process.sample_times(rng, self.batch_size)
        noise = rng.standard_normal(x.shape).astype(np.float32)
        noisy = self.process.corrupt(x, noise, t).astype(np.float32)
        target = np.asarray(self.process.target(x, noise, t), dtype=np.float32)
        if self.labels is None:
            return (noisy, t), target
        labels = self.labels[chosen].astype(np.int32)
        labels[rng.random(self.batch_size) < self.label_dropout] = self.num_classes
        return (noisy, t, labels), target

    def on_epoch_end(self):
        self.epoch += 1
