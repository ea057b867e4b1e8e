"""Sampling (采样): from noise to images with a trained denoiser, with or without guidance (引导).

:func:`sample` starts from ``x_1 ~ N(0, I)`` and runs ``steps`` steps back to
``t = 0``:

- flow (:class:`~cnn_tutor.models.diffusion.RectifiedFlow`): ``"euler"``,
  ``x_{t-h} = x_t - h v(x_t, t)``; ``"heun"``, the same step followed by a
  correction with the velocity at its end (two network evaluations a step;
  the last step, which ends at ``t = 0``, is left uncorrected, as in Karras
  et al. 2022);
- diffusion (:class:`~cnn_tutor.models.diffusion.GaussianDiffusion`) on
  ``steps`` of its ``T`` steps: ``"ddim"`` (Song et al. 2021, deterministic)
  and ``"ddpm"`` (ancestral sampling, Ho et al. 2020), which are the two ends
  ``eta = 0`` and ``eta = 1`` of one update
  ``x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - s^2) eps_hat + s z``,
  ``s = eta sqrt((1 - abar_prev) / (1 - abar)) sqrt(1 - abar / abar_prev)``.

Classifier-free guidance (Ho and Salimans 2022) evaluates a class-conditioned
network with the requested label and with the "no label" index in one batch,
and uses ``u + w (c - u)``: ``w = 1`` is plain conditional sampling, ``w > 1``
pushes the samples towards what distinguishes their class.

Only ``keras.ops`` and ``keras.random`` are used, so the samplers run on every
Keras backend.
"""

import keras
import numpy as np

from cnn_tutor import _validation
from cnn_tutor.models.diffusion import _common
from cnn_tutor.models.diffusion.processes import GaussianDiffusion, RectifiedFlow

__all__ = ["SAMPLERS", "network_evaluations", "sample"]

#: Every sampler name, with the process it belongs to.
SAMPLERS = {"euler": RectifiedFlow, "heun": RectifiedFlow, "ddpm": GaussianDiffusion, "ddim": GaussianDiffusion}


def network_evaluations(sampler, steps, *, guidance=1.0):
    """Images passed through the network per sample: the cost of a sampler.

    ``steps`` for Euler, DDPM and DDIM, ``2 * steps - 1`` for Heun (its
    last step is not corrected); guidance other than 1 doubles it (the
    conditional and the unconditional prediction).

    Examples
    --------
    >>> network_evaluations("euler", 20), network_evaluations("heun", 10), network_evaluations("ddim", 20, guidance=2.0)
    (20, 19, 40)
    """
    _validation.check_choice("sampler", sampler, tuple(SAMPLERS))
    steps = _validation.check_int("steps", steps, minimum=1)
    guidance = _validation.check_float("guidance", guidance)
    return (2 * steps - 1 if sampler == "heun" else steps) * (1 if guidance == 1.0 else 2)


class _Predictor:
    """Calls the network at one time for a batch, with the labels and the guidance.

    It uses ``model.predict_on_batch``, Keras's compiled inference step (on
    TensorFlow two to three times faster than calling the model eagerly).
    """

    def __init__(self, model, labels, guidance, num_classes):
        self.model, self.guidance, self.num_classes = model, guidance, num_classes
        self.labels = None if labels is None else keras.ops.convert_to_tensor(labels, "int32")

    def _run(self, inputs):
        return keras.ops.convert_to_tensor(self.model.predict_on_batch(inputs), "float32")

    def __call__(self, x, t):
        n = keras.ops.shape(x)[0]
        time = keras.ops.full((n,), t, dtype="float32")
        if self.num_classes is None:
            return self._run([x, time])
        null = keras.ops.full((n,), self.num_classes, dtype="int32")
        if self.labels is None:
            return self._run([x, time, null])
        if self.guidance == 1.0:
            return self._run([x, time, self.labels])
        both = self._run(
            [
                keras.ops.concatenate([x, x], axis=0),
                keras.ops.concatenate([time, time], axis=0),
                keras.ops.concatenate([self.labels, null], axis=0),
            ]
        )
        conditional, unconditional = both[:n], both[n:]
        return unconditional + self.guidance * (conditional - unconditional)


def _flow_steps(predict, x, steps, sampler, path):
    times = np.linspace(1.0, 0.0, steps + 1)
    for t, t_next in zip(times[:-1], times[1:]):
        h = float(t_next - t)  # negative: time runs back
        velocity = predict(x, float(t))
        if sampler == "heun" and t_next > 0:  # no correction on the last step (Karras et al. 2022)
            end = x + h * velocity
            velocity = 0.5 * (velocity + predict(end, float(t_next)))
        x = x + h * velocity
        if path is not None:
            path.append(x)
    return x


def _diffusion_steps(process, predict, x, steps, eta, clip_denoised, seed_generator, path):
    ks = np.rint(np.linspace(process.num_steps, 0, steps + 1)).astype(np.int64)
    for k, k_prev in zip(ks[:-1], ks[1:]):
        abar, abar_prev = float(process.alpha_bars[k]), float(process.alpha_bars[k_prev])
        signal, sigma = abar**0.5, (1.0 - abar) ** 0.5  # Python floats: keras.ops arithmetic on tensors
        eps = predict(x, float(k / process.num_steps))
        x0 = (x - sigma * eps) / signal
        if clip_denoised:
            x0 = keras.ops.clip(x0, -1.0, 1.0)
            eps = (x - signal * x0) / sigma
        s = eta * ((1.0 - abar_prev) / (1.0 - abar)) ** 0.5 * (1.0 - abar / abar_prev) ** 0.5
        x = abar_prev**0.5 * x0 + max(1.0 - abar_prev - s**2, 0.0) ** 0.5 * eps
        if s > 0:
            x = x + s * keras.random.normal(keras.ops.shape(x), seed=seed_generator)
        if path is not None:
            path.append(x)
    return x


def sample(
    model,
    process,
    num_images,
    *,
    sampler=None,
    steps=20,
    labels=None,
    guidance=1.0,
    clip_denoised=True,
    seed=None,
    batch_size=500,
    return_path=False,
):
    """Draw ``num_images`` images from a trained denoiser.

    Parameters
    ----------
    model : keras.Model
        A network from :func:`build_denoising_unet`, trained on ``process``.
    process : RectifiedFlow or GaussianDiffusion
        The noising it was trained to reverse.
    num_images : int
        How many images.
    sampler : {"euler", "heun"} or {"ddpm", "ddim"}, optional
        Default ``"euler"`` for a flow, ``"ddim"`` for a diffusion.
    steps : int
        Steps from noise to image (at most ``process.num_steps`` for a
        diffusion).
    labels : array_like, optional
        ``(num_images,)`` requested classes, for a class-conditioned model;
        ``None`` samples it without a label (unconditionally).
    guidance : float
        Classifier-free guidance scale ``w`` (1: none); needs ``labels``.
    clip_denoised : bool
        DDPM/DDIM only: clip each step's clean-image estimate to [-1, 1]
        (as Ho et al.'s code does).
    seed : int, optional
        Seed of the starting noise (and of DDPM's fresh noise); default:
        the runtime's seed.
    batch_size : int
        Images per network call (a guided call evaluates twice as many).
    return_path : bool
        Also return every intermediate state.

    Returns
    -------
    numpy.ndarray or tuple
        float32 ``(num_images, height, width, channels)`` in [0, 1]; with
        ``return_path``, also ``(steps + 1, num_images, ...)`` states from the
        noise to the image (in [0, 1], clipped).

    Raises
    ------
    ValueError
        For ``steps < 1``, a sampler that does not belong to the process,
        labels or guidance for an unconditional model, guidance without
        labels, or labels out of range.

    Examples
    --------
    >>> from cnn_tutor.models.diffusion import build_denoising_unet
    >>> net = build_denoising_unet(num_filters=4, embedding_dim=8, seed=0)
    >>> sample(net, RectifiedFlow(), 2, steps=3, seed=0).shape  # an untrained net predicts 0: the noise stays
    (2, 28, 28, 1)
    >>> sample(net, RectifiedFlow(), 2, sampler="ddim")
    Traceback (most recent call last):
    ...
    ValueError: `sampler` must be one of 'euler', 'heun' for a RectifiedFlow; received 'ddim'. 'ddpm' and 'ddim' sample a GaussianDiffusion.
    """
    if not isinstance(process, (RectifiedFlow, GaussianDiffusion)):
        raise TypeError(f"`process` must be a RectifiedFlow or a GaussianDiffusion; received {process!r}.")
    num_images = _validation.check_int("num_images", num_images, minimum=1)
    if sampler is None:
        sampler = process.samplers[0] if isinstance(process, RectifiedFlow) else "ddim"
    if sampler not in process.samplers:
        valid = ", ".join(repr(s) for s in process.samplers)
        others = " and ".join(repr(s) for s in SAMPLERS if s not in process.samplers)
        other_kind = "GaussianDiffusion" if isinstance(process, RectifiedFlow) else "RectifiedFlow"
        raise ValueError(
            f"`sampler` must be one of {valid} for a {type(process).__name__}; received {sampler!r}. "
            f"{others} sample a {other_kind}."
        )
    steps = _validation.check_int("steps", steps, minimum=1)
    if isinstance(process, GaussianDiffusion) and steps > process.num_steps:
        raise ValueError(
            f"`steps` must be <= the diffusion's {process.num_steps} steps; received {steps}."
        )
    guidance = _validation.check_float("guidance", guidance)
    batch_size = _validation.check_int("batch_size", batch_size, minimum=1)
    num_classes = _common.num_classes_of(model)
    if guidance != 1.0 and num_classes is None:
        raise ValueError(
            f"`guidance={guidance}` needs a class-conditioned model trained with label dropout; this one has "
            "no label input. Use guidance=1.0, or build it with build_denoising_unet(num_classes=...)."
        )
    if labels is not None:
        if num_classes is None:
            raise ValueError(
                "`labels` need a class-conditioned model; this one has no label input. "
                "Build it with build_denoising_unet(num_classes=...)."
            )
        labels = _validation.check_labels("labels", labels, num_classes=num_classes, length=num_images)
    if guidance != 1.0 and labels is None:
        raise ValueError(f"`guidance={guidance}` needs `labels` (the classes to steer towards); received None.")
    seed_generator = keras.random.SeedGenerator(_common.resolve_seed(seed))
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])

    images, paths = [], []
    for start in range(0, num_images, batch_size):
        count = min(batch_size, num_images - start)
        chunk_labels = None if labels is None else labels[start : start + count]
        predict = _Predictor(model, chunk_labels, guidance, num_classes)
        x = keras.random.normal((count, *shape), seed=seed_generator)
        path = [x] if return_path else None
        if isinstance(process, RectifiedFlow):
            x = _flow_steps(predict, x, steps, sampler, path)
        else:
            eta = 1.0 if sampler == "ddpm" else 0.0
            x = _diffusion_steps(process, predict, x, steps, eta, clip_denoised, seed_generator, path)
        images.append(_common.to_image_range(keras.ops.convert_to_numpy(x)))
        if return_path:
            paths.append(np.stack([_common.to_image_range(keras.ops.convert_to_numpy(p)) for p in path]))
    images = np.concatenate(images)
    if return_path:
        return images, np.concatenate(paths, axis=1)
    return images
