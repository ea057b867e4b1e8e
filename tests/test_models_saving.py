"""Every model the package builds goes through `.keras` and back with safe_mode=True, giving the same outputs.

No Lambda layers, no classes built inside functions: every Keras class of the
package is a module-level class registered with
``keras.saving.register_keras_serializable(package="cnn_tutor")``, so
``isinstance`` works and ``keras.saving.load_model(path, safe_mode=True)``
rebuilds it.
"""

import numpy as np
import pytest

from cnn_tutor.models import (
    autoencoder,
    cache,
    classifier,
    compression,
    detector,
    gan,
    layers,
    restoration,
    vae,
    variants,
)

keras = pytest.importorskip("keras")

pytestmark = [
    # Keras 3.15 converts its variables with np.array(x) internally, which NumPy 2 flags; not ours to fix.
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
    # A compiled model that never trained has an optimizer without variables; the reloaded one builds its own.
    pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer:UserWarning"),
]

_rng = np.random.default_rng(0)
_DIGITS = _rng.random((2, 28, 28, 1)).astype(np.float32)
_SMALL = _rng.random((2, 12, 16, 1)).astype(np.float32)
_MASK = (_rng.random((2, 12, 16, 1)) > 0.7).astype(np.float32)

# name -> (build, inputs); small widths keep it quick, the layer types are those of the real models.
BUILDERS = {
    "classifier": (lambda: classifier.build_classifier(filters=(4, 4, 4), dense_units=8, seed=0), _DIGITS),
    "dense classifier": (lambda: classifier.build_dense_classifier(hidden_units=(8,), seed=0), _DIGITS),
    "fully convolutional classifier": (
        lambda: detector.to_fully_convolutional(classifier.build_classifier(filters=(4, 4, 4), dense_units=8, seed=0)),
        _rng.random((1, 36, 40, 1)).astype(np.float32),
    ),
    "detector": (lambda: detector.build_detector(filters=(4, 4, 4), dense_units=8, seed=0), _rng.random((1, 40, 40, 1)).astype(np.float32)),
    "encoder": (lambda: autoencoder.build_encoder(latent_dim=3, filters=(4, 4)), _DIGITS),
    "decoder": (lambda: autoencoder.build_decoder(latent_dim=3, filters=(4, 4)), _rng.standard_normal((2, 3)).astype(np.float32)),
    "autoencoder": (lambda: autoencoder.build_autoencoder(latent_dim=3, seed=0), _DIGITS),
    "VAE": (lambda: vae.build_vae(latent_dim=2, seed=0), _DIGITS),
    "generator": (lambda: gan.build_generator(latent_dim=8, base_filters=4, dense_units=8, seed=0),
                  _rng.standard_normal((2, 8)).astype(np.float32)),
    "discriminator": (lambda: gan.build_discriminator(base_filters=4, dense_units=8, seed=0), _DIGITS),
    "DCGAN": (lambda: gan.build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8, seed=0),
              _rng.standard_normal((2, 8)).astype(np.float32)),
    "conv denoiser": (lambda: restoration.build_conv_denoiser(depth=3, num_filters=4, seed=0), _SMALL),
    "U-Net": (lambda: restoration.build_unet(num_filters=4, seed=0), _SMALL),
    "inpainting net": (lambda: restoration.build_inpainting_net(num_filters=4, dilation_rates=(1, 2), seed=0),
                       [_SMALL, _MASK]),
    "ESPCN": (lambda: restoration.build_espcn(filters=(4,), kernel_sizes=(3, 3), seed=0), _SMALL),
    "ESPCN + bicubic": (lambda: restoration.build_espcn(filters=(4,), kernel_sizes=(3, 3), residual=True, seed=0), _SMALL),
    "compression autoencoder": (lambda: compression.build_compression_autoencoder(num_filters=4, seed=0).autoencoder, _SMALL),
    "compression encoder": (lambda: compression.build_compression_autoencoder(num_filters=4, seed=0).encoder, _SMALL),
    "noise-quantised codec": (
        lambda: compression.build_compression_autoencoder(num_filters=4, quantizer="noise", seed=0).autoencoder, _SMALL
    ),
    "separable variant": (lambda: variants.build_conv_variant("separable3x3", (8, 8, 4), 6, seed=0),
                          _rng.random((2, 8, 8, 4)).astype(np.float32)),
    "stacked variant": (lambda: variants.build_conv_variant("stacked3x3", (8, 8, 4), 6, seed=0),
                        _rng.random((2, 8, 8, 4)).astype(np.float32)),
}


def _outputs(model, inputs):
    out = model(inputs, training=False)
    if isinstance(out, dict):
        return {key: np.asarray(value) for key, value in out.items()}
    if isinstance(out, (list, tuple)):
        return [np.asarray(value) for value in out]
    return np.asarray(out)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_model_round_trips_through_keras_format_in_safe_mode(name, tmp_path):
    build, inputs = BUILDERS[name]
    model = build()
    path = cache.save_model(model, tmp_path / "model.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    before, after = _outputs(model, inputs), _outputs(loaded, inputs)
    if isinstance(before, dict):
        assert before.keys() == after.keys()
        for key in before:
            np.testing.assert_array_equal(after[key], before[key])
    elif isinstance(before, list):
        for a, b in zip(after, before):
            np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(after, before)
    assert [w.shape for w in loaded.get_weights()] == [w.shape for w in model.get_weights()]


def test_no_lambda_layers_anywhere():
    for name, (build, _) in BUILDERS.items():
        model = build()
        stack = [model]
        while stack:
            layer = stack.pop()
            assert not isinstance(layer, keras.layers.Lambda), f"{name} contains a Lambda layer {layer.name!r}"
            stack.extend(getattr(layer, "layers", []))


def test_trained_models_reload_with_their_optimizer_and_custom_losses(tmp_path, rng):
    from cnn_tutor.data import detection
    from cnn_tutor.models import training

    digits = np.zeros((2, 28, 28, 1), np.float32)
    digits[:, 6:20, 10:16] = 1.0
    canvases = detection.make_detection_set(digits, np.arange(2), num_canvases=2, canvas_size=40, seed=0)
    model = detector.build_detector(filters=(4, 4, 4), dense_units=8, seed=0)
    training.train_detector(model, canvases, epochs=1, batch_size=2)
    loaded = keras.saving.load_model(cache.save_model(model, tmp_path / "detector.keras"), safe_mode=True)
    from cnn_tutor.models import detector_targets

    assert loaded.loss["classes"] is detector_targets.class_map_loss and loaded.loss["boxes"] is detector_targets.box_loss
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 1
    images = _rng.random((4, 28, 28, 1)).astype(np.float32)
    gan_model = gan.build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8, seed=0)
    training.train_dcgan(gan_model, images, epochs=1, batch_size=2)
    reloaded = keras.saving.load_model(cache.save_model(gan_model, tmp_path / "gan.keras"), safe_mode=True)
    assert int(reloaded.optimizer.iterations) == int(gan_model.optimizer.iterations) == 2
    assert reloaded.label_smoothing == gan_model.label_smoothing


def test_isinstance_works_for_every_public_class():
    import cnn_tutor.models.training as training_module
    from cnn_tutor.data import pipelines
    from cnn_tutor.models import checkpoints

    codec = compression.build_compression_autoencoder(num_filters=4, seed=0)
    dcgan = gan.build_dcgan(latent_dim=8, generator_filters=4, discriminator_filters=4, dense_units=8, seed=0)
    espcn = restoration.build_espcn(filters=(4,), kernel_sizes=(3, 3), seed=0)
    assert isinstance(dcgan, gan.DCGAN) and isinstance(dcgan, keras.Model)
    assert isinstance(vae.build_vae(seed=0), vae.VAE)
    assert isinstance(codec, compression.CompressionModel)
    assert isinstance(codec.autoencoder.get_layer("quantize"), layers.Quantize)
    assert isinstance(espcn.get_layer("depth_to_space"), layers.DepthToSpace)
    assert isinstance(training_module.SampleGrid(np.zeros((2, 8))), keras.callbacks.Callback)
    assert isinstance(training_module.EpochTimer(), keras.callbacks.Callback)
    assert isinstance(checkpoints.ResumableCheckpoint("unused"), keras.callbacks.Callback)
    assert isinstance(pipelines.ArrayDataset(np.zeros((2, 1)), batch_size=1, shuffle=False, seed=0), keras.utils.PyDataset)
