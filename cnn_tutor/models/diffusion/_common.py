"""Helpers shared by the diffusion modules (private)."""

import numpy as np

from cnn_tutor import _validation


def resolve_seed(seed):
    """``seed`` checked, or the runtime's seed when it is ``None`` (0 before any :func:`cnn_tutor.setup`)."""
    if seed is None:
        from cnn_tutor import runtime

        return runtime._current.seed if runtime._current is not None else 0
    return _validation.check_int("seed", seed, minimum=0)


def num_classes_of(model):
    """The number of classes of a class-conditioned denoiser, or ``None`` for an unconditional one."""
    inputs = getattr(model, "inputs", None)
    if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
        raise ValueError(
            "`model` must be a denoiser with inputs [noisy, time] or [noisy, time, label], as "
            f"build_denoising_unet returns; received a model with {len(inputs) if inputs else 'no'} inputs."
        )
    if len(inputs) == 2:
        return None
    try:
        return int(model.get_layer("label_embedding").input_dim) - 1
    except ValueError:
        raise ValueError(
            "`model` has a label input but no layer named 'label_embedding' to say how many classes it knows; "
            "build it with build_denoising_unet(num_classes=...)."
        ) from None


def to_model_range(images):
    """[0, 1] images to the [-1, 1] range the noise is added in."""
    return np.asarray(images, dtype=np.float32) * 2.0 - 1.0


def to_image_range(values):
    """[-1, 1] back to [0, 1] float32, clipped."""
    return np.clip((np.asarray(values, dtype=np.float32) + 1.0) / 2.0, 0.0, 1.0)
