"""The package on a backend without TensorFlow: one tiny model per family, built, trained, saved, reloaded, scored.

``python tests/backend_check.py`` with ``KERAS_BACKEND=jax`` and
``CNN_TUTOR_BLOCK_TENSORFLOW=1`` runs everything with ``import tensorflow``
blocked, as on a machine where TensorFlow is not installed, and prints one
JSON line of results; ``tests/test_backends.py`` runs it and compares the
deterministic parts (:func:`fixed_steps`) with the same computation on the
backend of the test run.
"""

import json
import os
import sys
import tempfile


class _BlockTensorFlow:
    """A ``sys.meta_path`` finder under which ``import tensorflow`` fails as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"No module named {name!r} (blocked by tests/backend_check.py)")
        return None


def _weights_from(seed, model, scale=0.2):
    """Deterministic weights for ``model`` from NumPy, the same on every backend."""
    import numpy as np

    rng = np.random.default_rng(seed)
    model.set_weights([(scale * rng.standard_normal(w.shape)).astype(w.dtype) for w in model.get_weights()])


def fixed_steps():
    """One DCGAN step and one VAE step from fixed weights, data and noise: the same numbers on every backend."""
    import keras
    import numpy as np

    from cnn_tutor.models import gan, training, vae

    rng = np.random.default_rng(0)
    images = rng.random((8, 28, 28, 1)).astype(np.float32)
    noise = rng.standard_normal((8, 8)).astype(np.float32)
    dcgan = gan.build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8, seed=0)
    _weights_from(1, dcgan.generator)
    _weights_from(2, dcgan.discriminator)
    dcgan._noise_for = lambda real: keras.ops.convert_to_tensor(noise)  # the step's noise, fixed
    before = [float(np.asarray(v)) for v in dcgan.losses_of(images, noise)[:2]]
    start = {name: getattr(dcgan, name).get_weights() for name in ("generator", "discriminator")}
    run = training.fit(dcgan, images, epochs=1, batch_size=8, shuffle=False, drop_remainder=True)
    out = {"dcgan_losses": before, "dcgan_logged": [run.history["d_loss"][0], run.history["g_loss"][0]]}
    for name, old in start.items():
        # Adam's first step moves each weight by about the learning rate, in the direction of -sign(gradient):
        # a random projection of the update sees those signs (a gradient from the wrong loss flips many).
        update = np.concatenate([(new - w).ravel() for new, w in zip(getattr(dcgan, name).get_weights(), old)])
        out[f"dcgan_{name}_update"] = float(update @ np.random.default_rng(9).standard_normal(update.size))
    model = vae.build_vae(latent_dim=2, seed=0)
    _weights_from(3, model, scale=0.03)
    eps = rng.standard_normal((8, 2)).astype(np.float32)
    model.reparameterise = lambda mean, log_var: mean + keras.ops.exp(0.5 * log_var) * eps
    run = training.fit(model, (images > 0.5).astype(np.float32), epochs=1, batch_size=8, shuffle=False)
    out["vae_history"] = [run.history[key][0] for key in ("loss", "reconstruction", "kl")]
    out["vae_weights"] = float(sum(np.abs(w).sum() for w in model.get_weights()))  # its first step, from these weights
    return out


def every_family(workdir):
    """Build, train one step, save and reload, and score one tiny model per family; return what was measured."""
    import keras
    import numpy as np

    import cnn_tutor
    from cnn_tutor import baselines, cost, data, metrics
    from cnn_tutor.models import (
        autoencoder,
        cache,
        classifier,
        compression,
        detector,
        gan,
        restoration,
        training,
        vae,
        variants,
    )

    rng = np.random.default_rng(0)
    digits = rng.random((16, 28, 28, 1)).astype(np.float32)
    labels = np.arange(16) % 10
    out = {}

    def reload(model, name):
        path = cache.save_model(model, os.path.join(workdir, f"{name}.keras"))
        return keras.saving.load_model(path, safe_mode=True)

    # classifier
    mnist = data.MNIST(digits, labels, digits[:8], labels[:8], "toy", "toy")
    model = classifier.build_classifier(filters=(4, 4, 4), dense_units=8)
    training.train_classifier(model, mnist, epochs=1, batch_size=8, validation=(digits[:4], labels[:4]))
    again = reload(model, "classifier")
    out["classifier"] = [metrics.accuracy(model, digits, labels), metrics.accuracy(again, digits, labels)]
    out["confusion"] = int(metrics.confusion_matrix(labels, classifier.predict_classes(again, digits)).sum())
    out["macs"] = cost.count_macs(variants.build_conv_variant("separable3x3", (8, 8, 4), 6))
    # detector
    canvases = data.make_detection_set(digits, labels, num_canvases=4, canvas_size=40, seed=0)
    found_model = detector.build_detector(filters=(4, 4, 4), dense_units=8, classifier=model)
    run = training.train_detector(found_model, canvases, epochs=1, batch_size=2)
    again = reload(found_model, "detector")
    found = detector.detect(again, canvases.images, score_threshold=0.0)
    out["detector"] = [run.history["loss"][0], metrics.evaluate_detections(found, canvases).total]
    # autoencoder, VAE, DCGAN
    ae = autoencoder.build_autoencoder(latent_dim=3)
    training.fit(ae, digits, digits, epochs=1, batch_size=8)
    np.testing.assert_array_equal(np.asarray(reload(ae, "ae")(digits)), np.asarray(ae(digits)))
    model = vae.build_vae(latent_dim=2)
    out["vae"] = training.fit(model, digits, epochs=1, batch_size=8).history["loss"][0]
    np.testing.assert_array_equal(reload(model, "vae").sample(3), model.sample(3))
    dcgan = gan.build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8)
    run = training.train_dcgan(dcgan, digits, epochs=1, batch_size=8, checkpoint_dir=os.path.join(workdir, "gan"),
                               grid_noise=rng.standard_normal((2, 8)))
    resumed = gan.build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8, seed=5)
    again = training.train_dcgan(resumed, digits, epochs=2, batch_size=8, checkpoint_dir=os.path.join(workdir, "gan"))
    np.testing.assert_array_equal(gan.generate(reload(dcgan, "gan"), 2), gan.generate(dcgan, 2))
    out["dcgan"] = [run.history["g_loss"][0], sorted(run.grids), again.initial_epoch, int(resumed.optimizer.iterations)]
    judge = classifier.build_classifier(filters=(4, 4, 4), dense_units=8)
    out["generation"] = metrics.generation_scores(judge, gan.generate(dcgan, 4), digits).score
    # restoration
    noisy = data.add_gaussian_noise(digits, 0.3, rng=0)
    denoiser = restoration.build_unet(num_filters=4)
    training.train_restoration(denoiser, noisy, digits, epochs=1, batch_size=8, validation_split=0.25, early_stopping=1)
    restored = restoration.restore(reload(denoiser, "unet"), noisy)
    out["denoising"] = [float(metrics.psnr(digits, restored).mean()), float(metrics.ssim(digits, restored).mean()),
                        float(metrics.psnr(digits, baselines.classical_denoise(noisy, "median")).mean())]
    damaged, mask = data.mask_random_boxes(digits, box_size=6, rng=0)
    inpainter = restoration.build_inpainting_net(num_filters=4, dilation_rates=(1, 2))
    training.train_restoration(inpainter, [damaged, mask], digits, epochs=1, batch_size=8)
    filled = restoration.restore(reload(inpainter, "inpainter"), [damaged, mask])
    out["inpainting"] = metrics.hole_psnr(digits, filled, mask)
    small = data.downsample(digits, 2)
    espcn = restoration.build_espcn(filters=(4,), kernel_sizes=(3, 3), residual=True)
    training.train_restoration(espcn, small, digits, epochs=1, batch_size=8)
    upscaled = restoration.restore(reload(espcn, "espcn"), small)
    out["super_resolution"] = [float(metrics.psnr(digits, upscaled).mean()),
                               float(metrics.psnr(digits, baselines.upsample(small, 2, "bicubic")).mean())]
    # compression
    codec = compression.build_compression_autoencoder(num_filters=4)
    training.fit(codec.autoencoder, digits, digits, epochs=1, batch_size=8)
    reload(codec.autoencoder, "codec")
    symbols = compression.encode(codec, digits)
    table = metrics.symbol_probabilities(symbols, levels=codec.levels)
    out["compression"] = [metrics.code_length_bits(symbols, table), metrics.compressed_bytes(symbols, "zlib")]
    out["backend"] = keras.backend.backend()
    out["banner"] = cnn_tutor.runtime._current.banner
    return out


def main():
    if os.environ.get("CNN_TUTOR_BLOCK_TENSORFLOW"):
        sys.meta_path.insert(0, _BlockTensorFlow())
    import cnn_tutor

    cnn_tutor.setup("quick", verbose=False)
    with tempfile.TemporaryDirectory() as workdir:
        result = {"families": every_family(workdir), "fixed": fixed_steps()}
    result["tensorflow_imported"] = "tensorflow" in sys.modules
    print(json.dumps(result))


if __name__ == "__main__":
    main()
