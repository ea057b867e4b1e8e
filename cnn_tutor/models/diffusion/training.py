"""Training a denoiser with plain ``model.fit``: fresh noise per batch, Adam, an average of the weights.

:func:`train_denoiser` compiles the network with Adam and the mean squared
error, keeps an exponential moving average (EMA) of the weights inside the
optimizer (Keras's ``use_ema``), and fits it on :class:`DenoisingBatches`.
Keras's ``SwapEMAWeights`` callback puts the averaged weights in the model at
the end of every reporting interval (so callbacks such as
:class:`SampleSnapshots` see them) and ``fit`` leaves them there when it ends:
the trained model *is* the average.  The run records its wall-clock and CPU
seconds.
"""

import time
import typing

import keras

from cnn_tutor import _validation
from cnn_tutor.models.diffusion import _common
from cnn_tutor.models.diffusion.processes import DenoisingBatches
from cnn_tutor.models.diffusion.sampling import sample

__all__ = ["DenoiserRun", "SampleSnapshots", "train_denoiser"]


class DenoiserRun(typing.NamedTuple):
    """What :func:`train_denoiser` returns."""

    #: The trained model (its weights are the moving average).
    model: keras.Model
    #: ``{"loss": [...]}``, the mean training loss of each reporting interval.
    history: dict
    #: Optimizer steps taken.
    steps: int
    #: Wall-clock seconds of ``fit``.
    seconds: float
    #: CPU seconds of the whole process during ``fit`` (all threads; about
    #: ``seconds`` times the cores kept busy).
    cpu_seconds: float


class SampleSnapshots(keras.callbacks.Callback):
    """Sample a few images with fixed noise at the end of every reporting interval.

    Placed after ``SwapEMAWeights(swap_on_epoch=True)`` (as
    :func:`train_denoiser` does), it samples with the averaged weights.

    Parameters
    ----------
    process : RectifiedFlow or GaussianDiffusion
        The process the model is trained on.
    num_images : int
        Images per snapshot.
    steps_per_epoch : int
        Optimizer steps per reporting interval (to label the snapshots).
    labels : array_like, optional
        Requested classes, for a class-conditioned model.
    seed : int, optional
        Seed of the noise (the same for every snapshot).
    **sample_options
        Passed to :func:`sample` (``sampler``, ``steps``, ``guidance``...).

    Attributes
    ----------
    images : dict
        Optimizer step -> ``(num_images, height, width, channels)`` samples.
    """

    def __init__(self, process, num_images=8, *, steps_per_epoch, labels=None, seed=None, **sample_options):
        super().__init__()
        self.process = process
        self.num_images = _validation.check_int("num_images", num_images, minimum=1)
        self.steps_per_epoch = _validation.check_int("steps_per_epoch", steps_per_epoch, minimum=1)
        self.labels, self.seed, self.options = labels, _common.resolve_seed(seed), sample_options
        self.images = {}

    def on_epoch_end(self, epoch, logs=None):
        """Draw the snapshot of the samples after this epoch, keyed by the training steps so far."""
        self.images[(epoch + 1) * self.steps_per_epoch] = sample(
            self.model, self.process, self.num_images, labels=self.labels, seed=self.seed, **self.options
        )


def train_denoiser(
    model,
    process,
    images,
    labels=None,
    *,
    steps,
    batch_size=64,
    learning_rate=1e-3,
    decay=True,
    ema_momentum=0.995,
    label_dropout=0.1,
    steps_per_epoch=None,
    callbacks=(),
    seed=None,
):
    """Train ``model`` to reverse ``process`` on ``images``, for ``steps`` optimizer steps.

    Parameters
    ----------
    model : keras.Model
        From :func:`build_denoising_unet` (compiled here, so any earlier
        optimizer state is discarded).
    process : RectifiedFlow or GaussianDiffusion
        The objective: a flow's velocity or a diffusion's noise.
    images : array_like
        ``(n, height, width, channels)`` training images in [0, 1].
    labels : array_like, optional
        ``(n,)`` classes, required by a class-conditioned model.
    steps : int
        Optimizer steps (ask the runtime: ``rt.budget(quick=..., full=...)``).
    batch_size : int
        Images per step.
    learning_rate : float
        Adam's learning rate (its peak, with ``decay``).
    decay : bool
        Decay the learning rate to 0 along a cosine over the ``steps``.
    ema_momentum : float
        The moving average's momentum, in [0, 1): it averages roughly the
        last ``1 / (1 - ema_momentum)`` steps (0: no average).
    label_dropout : float
        Probability of training a batch item without its label (for
        classifier-free guidance); ignored without labels.
    steps_per_epoch : int, optional
        Steps per reporting interval (callbacks' "epochs"); default ``steps``.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks; at the end of each interval they see the averaged
        weights.
    seed : int, optional
        Seed of the batches; default: the runtime's seed.

    Returns
    -------
    DenoiserRun

    Raises
    ------
    ValueError
        If ``steps`` is not a multiple of ``steps_per_epoch``, the labels do
        not match the model, or an option is out of range.
    """
    steps = _validation.check_int("steps", steps, minimum=1)
    steps_per_epoch = steps if steps_per_epoch is None else _validation.check_int("steps_per_epoch", steps_per_epoch, minimum=1)
    if steps % steps_per_epoch:
        raise ValueError(
            f"`steps` ({steps}) must be a multiple of `steps_per_epoch` ({steps_per_epoch}), so that every "
            "reporting interval has the same length."
        )
    learning_rate = _validation.check_float("learning_rate", learning_rate)
    if learning_rate <= 0:
        raise ValueError(f"`learning_rate` must be > 0; received {learning_rate}.")
    ema_momentum = _validation.check_float("ema_momentum", ema_momentum, minimum=0.0, maximum=1.0)
    if ema_momentum == 1.0:
        raise ValueError("`ema_momentum` must be < 1 (1 would never move the average off the initial weights).")
    num_classes = _common.num_classes_of(model)
    if (num_classes is None) != (labels is None):
        needs = "needs `labels`" if labels is None else "has no label input, so `labels` must be None"
        raise ValueError(f"The model {needs}; conditioned on {num_classes} classes." if num_classes else f"The model {needs}.")
    batches = DenoisingBatches(
        process,
        images,
        labels,
        batch_size=batch_size,
        steps_per_epoch=steps_per_epoch,
        label_dropout=label_dropout if labels is not None else 0.0,
        num_classes=num_classes or 10,
        seed=seed,
    )
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps) if decay else learning_rate
    use_ema = ema_momentum > 0
    optimizer = keras.optimizers.Adam(schedule, use_ema=use_ema, ema_momentum=ema_momentum if use_ema else 0.99)
    model.compile(optimizer=optimizer, loss="mean_squared_error")
    swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if use_ema else []
    wall, cpu = time.perf_counter(), time.process_time()
    history = model.fit(
        batches, epochs=steps // steps_per_epoch, shuffle=False, verbose=0, callbacks=[*swap, *callbacks]
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    history = {key: [float(v) for v in values] for key, values in history.history.items()}
    return DenoiserRun(model, history, int(model.optimizer.iterations), wall, cpu)
