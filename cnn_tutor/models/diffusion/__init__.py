"""Generation by denoising: flow matching and diffusion on a time-conditioned U-Net.

A network that removes noise at *every* noise level is a generator: start
from pure noise and remove it a little at a time.  This package has the
pieces, each in a module by role:

- ``processes``: the noising to undo,
  :class:`RectifiedFlow` (flow matching, 流匹配: a straight path, predict its
  velocity) and :class:`GaussianDiffusion` (DDPM, 扩散模型: a noise schedule,
  predict the noise), and :class:`DenoisingBatches`, the training batches
  with fresh noise, times and dropped labels;
- ``network``: :func:`build_denoising_unet`,
  the Reconstruction chapter's U-Net blocks with a sinusoidal time
  embedding and an optional class embedding;
- ``ideal``: :func:`build_ideal_denoiser`,
  the exact denoiser of a finite set of images (a posterior mean over it),
  which turns pure noise into the mean image in one step and copies a
  training image along a schedule;
- ``training``: :func:`train_denoiser`
  (``model.fit``, Adam, a moving average of the weights) and
  :class:`SampleSnapshots`;
- ``sampling``: :func:`sample` with the
  Euler and Heun samplers of the flow, ancestral DDPM and deterministic DDIM
  for the diffusion, and classifier-free guidance (引导).

Models, losses and samplers use only ``keras.ops`` and ``keras.random``: the
same code runs on the TensorFlow and JAX backends.

Used by the Generation by denoising chapter.
"""

from cnn_tutor.models.diffusion.ideal import IdealDenoiser, build_ideal_denoiser
from cnn_tutor.models.diffusion.network import (
    FiLM,
    SinusoidalEmbedding,
    build_denoising_unet,
    conditioning_embedding,
    decoder_level,
    default_dtype_policy,
    encoder_level,
    unet_block,
)
from cnn_tutor.models.diffusion.processes import SCHEDULES, DenoisingBatches, GaussianDiffusion, RectifiedFlow
from cnn_tutor.models.diffusion.sampling import SAMPLERS, network_evaluations, sample
from cnn_tutor.models.diffusion.training import DenoiserRun, SampleSnapshots, train_denoiser

__all__ = [
    "SAMPLERS",
    "SCHEDULES",
    "DenoiserRun",
    "DenoisingBatches",
    "FiLM",
    "GaussianDiffusion",
    "IdealDenoiser",
    "RectifiedFlow",
    "SampleSnapshots",
    "SinusoidalEmbedding",
    "build_denoising_unet",
    "build_ideal_denoiser",
    "conditioning_embedding",
    "decoder_level",
    "default_dtype_policy",
    "encoder_level",
    "network_evaluations",
    "sample",
    "train_denoiser",
    "unet_block",
]
