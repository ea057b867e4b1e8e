"""Tests of cnn_tutor.models.classifier (the article's classifier and its tools), its training and cache."""

import numpy as np
import pytest

from cnn_tutor import metrics, runtime
from cnn_tutor.models import cache, classifier, training

keras = pytest.importorskip("keras")

# Keras 3.15 converts its variables with np.array(x) internally, which NumPy 2 flags; not ours to fix.
pytestmark = [
    pytest.mark.usefixtures("quiet_runtime"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]


def test_build_classifier_is_the_articles_model():
    model = classifier.build_classifier()
    layers = model.layers[1:]
    assert [type(layer).__name__ for layer in layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense", "Dense",
    ]  # fmt: skip
    convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64, 64]
    assert all(c.kernel_size == (3, 3) and c.padding == "valid" and c.strides == (1, 1) for c in convs)
    assert all(c.activation.__name__ == "relu" for c in convs)
    assert [p.pool_size for p in layers if isinstance(p, keras.layers.MaxPooling2D)] == [(2, 2), (2, 2)]
    dense, output = layers[-2:]
    assert (dense.units, dense.activation.__name__) == (64, "relu")
    assert (output.units, output.activation.__name__) == (10, "softmax")
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.count_params() == 93_322
    assert model.loss == "sparse_categorical_crossentropy"


def test_hand_count_of_parameters_matches_keras():
    model = classifier.build_classifier(kernel_size=5, padding="same", filters=(8, 16), dense_units=20, num_classes=7)
    expected = (25 * 1 + 1) * 8 + (25 * 8 + 1) * 16 + (14 * 14 * 16 + 1) * 20 + (20 + 1) * 7
    assert model.count_params() == expected


@pytest.mark.parametrize("kernel_size, strides", [(3, (2, 1, 1)), (5, 1), (7, (2, 1, 1))])
def test_same_padding_sweep_configurations_build(kernel_size, strides):
    model = classifier.build_classifier(kernel_size=kernel_size, strides=strides, padding="same", compile=False)
    assert model.output_shape == (None, 10)


def test_seed_gives_the_same_initial_weights():
    a = classifier.build_classifier(seed=3, compile=False).get_weights()
    b = classifier.build_classifier(seed=3, compile=False).get_weights()
    c = classifier.build_classifier(seed=4, compile=False).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_seed_none_means_the_runtimes_seed():
    runtime.setup("quick", seed=3, verbose=False)
    try:
        default = classifier.build_classifier(compile=False).get_weights()
    finally:
        runtime.setup("quick", seed=0, verbose=False)
    explicit = classifier.build_classifier(seed=3, compile=False).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(default, explicit))


def test_build_classifier_errors():
    with pytest.raises(ValueError, match="shrinks to nothing.*Consider a smaller `kernel_size`"):
        classifier.build_classifier(kernel_size=5)
    with pytest.raises(ValueError, match="`input_shape` must be"):
        classifier.build_classifier(input_shape=(28, 28))
    with pytest.raises(ValueError, match=r"a sequence of 3 ints \(one per layer\); received \(1, 2\)"):
        classifier.build_classifier(strides=(1, 2))
    with pytest.raises(ValueError, match="`padding` must be one of"):
        classifier.build_classifier(padding="full")
    with pytest.raises(ValueError, match="`num_classes` must be >= 2"):
        classifier.build_classifier(num_classes=1)
    with pytest.raises(TypeError, match="`dense_units` must be an integer"):
        classifier.build_classifier(dense_units=6.5)
    with pytest.raises(ValueError, match="`dropout` must be below 1 .*received 1.0"):
        classifier.build_classifier(dropout=1.0)
    with pytest.raises(ValueError, match="`dropout` must be >= 0.0"):
        classifier.build_classifier(dropout=-0.1)


def test_dropout_adds_two_layers_and_no_weights_and_acts_only_in_training():
    plain = classifier.build_classifier(seed=0, compile=False)
    dropped = classifier.build_classifier(dropout=0.5, seed=0, compile=False)
    names = [layer.name for layer in dropped.layers]
    assert names[names.index("flatten") + 1] == "dropout1" and names[names.index("dense") + 1] == "dropout2"
    assert dropped.count_params() == plain.count_params() == 93_322
    dropped.set_weights(plain.get_weights())  # the same weights: dropout changes only training
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(dropped(images, training=False), plain(images, training=False), rtol=1e-6)
    assert not np.allclose(dropped(images, training=True), plain(images, training=False))


def test_build_dense_classifier():
    model = classifier.build_dense_classifier(hidden_units=(112,))
    assert model.count_params() == (784 + 1) * 112 + (112 + 1) * 10
    with pytest.raises(ValueError, match="hidden_units"):
        classifier.build_dense_classifier(hidden_units=64)


def test_train_predict_accuracy_on_a_tiny_set(tiny_mnist):
    model = classifier.build_classifier(filters=(8, 8, 8), dense_units=16, seed=0)
    run = training.train_classifier(model, tiny_mnist, epochs=1, batch_size=16)
    assert set(run.history) >= {"loss", "accuracy"} and len(run.epoch_seconds) == 1
    predicted = classifier.predict_classes(model, tiny_mnist.x_test)
    assert predicted.shape == (8,) and predicted.dtype == np.int64
    np.testing.assert_array_equal(predicted, np.asarray(model.predict(tiny_mnist.x_test, verbose=0)).argmax(axis=1))
    acc = metrics.accuracy(model, tiny_mnist.x_test, tiny_mnist.y_test)
    assert acc == pytest.approx(np.mean(predicted == tiny_mnist.y_test))


def test_training_is_reproducible(tiny_mnist):
    weights = []
    for _ in range(2):
        model = classifier.build_classifier(filters=(8, 8, 8), dense_units=16, seed=0)
        training.train_classifier(model, tiny_mnist, epochs=1, batch_size=16, seed=0)
        weights.append(model.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_input_errors(tiny_mnist):
    model = classifier.build_classifier(compile=False)
    rgb = np.zeros((2, 28, 28, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"shape \(batch, 28, 28, 1\).*Convert RGB to grayscale"):
        classifier.predict_classes(model, rgb)
    with pytest.raises(ValueError, match=r"`labels` must lie in \[0, 9\]"):
        metrics.accuracy(model, tiny_mnist.x_test, np.full(8, 10))
    with pytest.raises(ValueError, match="4-D"):
        classifier.predict_classes(model, np.zeros((28, 28)))
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        training.train_classifier(model, [1, 2, 3], epochs=1)


def test_feature_maps_follow_the_layers(tiny_mnist):
    model = classifier.build_classifier(compile=False)
    maps = classifier.feature_maps(model, tiny_mnist.x_test[0])
    assert list(maps) == ["conv1", "pool1", "conv2", "pool2", "conv3"]
    assert [m.shape for m in maps.values()] == [(26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (3, 3, 64)]
    with pytest.raises(ValueError, match="one image"):
        classifier.feature_maps(model, tiny_mnist.x_test[:2])


def test_filter_symmetry():
    rng = np.random.default_rng(0)
    symmetric = rng.normal(size=(5, 5))
    symmetric = symmetric + symmetric[::-1, ::-1]
    antisymmetric = symmetric - symmetric[::-1, ::-1] + rng.normal(size=(5, 5)) - 0  # generic
    antisymmetric = antisymmetric - antisymmetric[::-1, ::-1]
    assert classifier.filter_symmetry(symmetric) == pytest.approx(1.0)
    assert classifier.filter_symmetry(antisymmetric) == pytest.approx(0.0)
    random = classifier.filter_symmetry(rng.normal(size=(3, 3, 1, 4000)))
    assert random.shape == (1, 4000)
    assert random.mean() == pytest.approx(5 / 9, abs=0.02)
    with pytest.raises(ValueError, match="all-zero"):
        classifier.filter_symmetry(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="2-D"):
        classifier.filter_symmetry(np.zeros(3))


def test_load_or_train_saves_natively_and_loads_safely(tiny_mnist, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    path = cache.classifier_path(tiny_mnist, epochs=1)
    assert path.parent == tmp_path and path.suffix == ".keras"
    trained = cache.load_or_train_classifier(tiny_mnist, epochs=1, verbose=True)
    assert "Trained" in capsys.readouterr().out and path.exists()
    import zipfile

    assert zipfile.is_zipfile(path)  # the native .keras format is a zip of JSON and weights, not a pickle
    loaded = cache.load_or_train_classifier(tiny_mnist, epochs=1, verbose=True)
    assert "Loaded" in capsys.readouterr().out
    assert all(np.array_equal(a, b) for a, b in zip(trained.get_weights(), loaded.get_weights()))
    # Other settings or other data: another file.
    assert cache.classifier_path(tiny_mnist, epochs=2) != path
    assert cache.classifier_path(tiny_mnist, epochs=1, seed=1) != path
    other = tiny_mnist._replace(x_train=tiny_mnist.x_train[::-1])
    assert cache.classifier_path(other, epochs=1) != path
    with pytest.raises(ValueError, match="must end in '.keras'"):
        cache.load_or_train_classifier(tiny_mnist, epochs=1, path=tmp_path / "model.h5")
    with pytest.raises(ValueError, match="must end in '.keras'"):
        cache.save_model(trained, tmp_path / "model.h5")


def test_accuracy_and_confusion_matrix_on_hand_made_predictions():
    # A "classifier" whose class is the brightest of its 4 pixels: the scores are known exactly.
    inputs = keras.Input((2, 2, 1))
    model = keras.Model(inputs, keras.layers.Flatten()(inputs))
    images = np.zeros((4, 2, 2, 1), np.float32)
    for index, pixel in enumerate([(0, 0), (0, 1), (1, 1), (1, 1)]):
        images[(index, *pixel, 0)] = 1.0  # classes 0, 1, 3, 3
    assert metrics.accuracy(model, images, [0, 1, 3, 2]) == 0.75
    matrix = metrics.confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], num_classes=3)
    assert matrix.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    with pytest.raises(ValueError, match="one label per image"):
        metrics.confusion_matrix([0, 1], [0], num_classes=3)
