"""The package runs where TensorFlow cannot: Keras on JAX with `import tensorflow` blocked.

The only accelerator this project can be measured on has JAX but no
TensorFlow.  A fresh interpreter with ``KERAS_BACKEND=jax`` and a
``sys.meta_path`` finder that makes ``import tensorflow`` fail sets up the
runtime, builds, trains for one step, saves and reloads, and scores one tiny
model per family (``tests/backend_check.py``).  The DCGAN's and the VAE's
training steps, run from fixed weights, data and noise, must give the same
numbers there as on the backend of this test run: the TensorFlow and JAX
versions of the DCGAN step compute the same thing.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def without_tensorflow():
    from cnn_tutor import _backend

    if _backend.name() != "tensorflow":
        # The check starts its own JAX interpreter; the TensorFlow pass runs it, and compares the two backends.
        pytest.skip("run by the TensorFlow pass of `make test-package` (it starts its own JAX interpreter)")
    env = {**os.environ, "KERAS_BACKEND": "jax", "CNN_TUTOR_BLOCK_TENSORFLOW": "1"}
    result = subprocess.run([sys.executable, str(HERE / "backend_check.py")], capture_output=True, text=True, env=env,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_family_runs_on_jax_without_tensorflow(without_tensorflow):
    out = without_tensorflow
    assert out["tensorflow_imported"] is False
    families = out["families"]
    assert families["backend"] == "jax" and "| backend: jax | JAX " in families["banner"]
    assert families["classifier"][0] == families["classifier"][1]  # the reloaded model predicts the same
    assert families["confusion"] == 16 and families["macs"] == 8 * 8 * (3 * 3 * 4 + 4 * 6)
    assert np.isfinite(families["detector"][0]) and families["detector"][1] >= 4
    assert np.isfinite(families["vae"])
    g_loss, grids, initial_epoch, steps = families["dcgan"]
    assert np.isfinite(g_loss) and grids == [1] and initial_epoch == 1 and steps == 4  # resumed: 2 + 2 steps
    assert 1.0 <= families["generation"] <= 10.0
    unet, ssim, median = families["denoising"]
    assert np.isfinite(unet) and -1.0 <= ssim <= 1.0 and median > 0
    assert np.isfinite(families["inpainting"]) and all(np.isfinite(families["super_resolution"]))
    bits, zlib_bytes = families["compression"]
    assert bits > 0 and zlib_bytes > 0


def test_dcgan_and_vae_steps_agree_with_this_backend(without_tensorflow):
    import importlib.util

    spec = importlib.util.spec_from_file_location("backend_check", HERE / "backend_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    here, jax_without_tf = module.fixed_steps(), without_tensorflow["fixed"]
    for key in here:
        # An update's projection sums ~10^4 signed steps; weights whose gradient is round-off move by round-off.
        tolerance = 1e-3 if key.endswith("_update") else 2e-4
        np.testing.assert_allclose(jax_without_tf[key], here[key], rtol=tolerance, err_msg=key)
    # before the step, the losses are those of the hand-made weights; the logged ones are the same batch's
    np.testing.assert_allclose(here["dcgan_logged"], here["dcgan_losses"], rtol=1e-5)
