"""Tests of cnn_tutor.data.pipelines: tf.data on TensorFlow, a PyDataset on the other backends."""

import numpy as np
import pytest

from cnn_tutor import _backend, runtime
from cnn_tutor.data import pipelines


def _labels(batch):
    return np.asarray(batch[1])


def _epoch(dataset):
    """The labels of one pass over the dataset, in order (a new pass of tf.data reshuffles)."""
    if isinstance(dataset, pipelines.ArrayDataset):
        dataset.on_epoch_begin()  # what fit does at the start of each epoch
        return [_labels(dataset[i]).tolist() for i in range(len(dataset))]
    return [_labels(batch).tolist() for batch in dataset]


def test_the_pipeline_follows_the_backend(backend):
    dataset = pipelines.make_dataset(np.zeros((4, 2, 2, 1)), np.arange(4), batch_size=2)
    if backend == "tensorflow":
        assert type(dataset).__module__.startswith("tensorflow") and pipelines.is_dataset(dataset)
    else:
        assert isinstance(dataset, pipelines.ArrayDataset) and pipelines.is_dataset(dataset)
    assert not pipelines.is_dataset(np.zeros(3))


@pytest.mark.parametrize("batch_size, sizes", [(4, [4, 4, 2]), (10, [10]), (64, [10])])
def test_make_dataset_batches(batch_size, sizes):
    images = np.zeros((10, 5, 5, 1), dtype=np.float32)
    dataset = pipelines.make_dataset(images, np.arange(10), batch_size=batch_size)
    assert [len(labels) for labels in _epoch(dataset)] == sizes


def test_drop_remainder_drops_the_last_incomplete_batch():
    dataset = pipelines.make_dataset(np.zeros((10, 2, 2, 1)), np.arange(10), batch_size=4, drop_remainder=True)
    assert [len(labels) for labels in _epoch(dataset)] == [4, 4]


def test_make_dataset_without_targets_yields_inputs():
    dataset = pipelines.make_dataset(np.zeros((3, 4, 4, 1)), batch_size=2)
    if isinstance(dataset, pipelines.ArrayDataset):
        shapes = [tuple(np.shape(dataset[i][0])) for i in range(len(dataset))]
    else:
        shapes = [tuple(batch.shape) for batch in dataset]
    assert shapes == [(2, 4, 4, 1), (1, 4, 4, 1)]


def test_several_inputs_and_dict_targets_stay_paired():
    images = np.arange(6, dtype=np.float32).reshape(6, 1, 1, 1) / 10
    masks = images * 2
    targets = {"a": np.arange(6), "b": np.arange(6) * 10}
    dataset = pipelines.make_dataset([images, masks], targets, batch_size=4, shuffle=True, seed=1)
    if isinstance(dataset, pipelines.ArrayDataset):
        dataset.on_epoch_begin()
        batches = [dataset[i] for i in range(len(dataset))]
    else:
        batches = list(dataset)
    seen = []
    for (x, m), y in batches:
        x, m, a, b = (np.asarray(v).ravel() for v in (x, m, y["a"], y["b"]))
        np.testing.assert_allclose(m, 2 * x, rtol=1e-6)
        np.testing.assert_allclose(x * 10, a, atol=1e-5)
        np.testing.assert_array_equal(b, a * 10)
        seen.extend(a.tolist())
    assert sorted(seen) == list(range(6))


def test_unshuffled_order_is_kept():
    labels = np.arange(7)
    dataset = pipelines.make_dataset(np.zeros((7, 2, 2, 1)), labels, batch_size=3)
    assert sum(_epoch(dataset), []) == labels.tolist()


def test_shuffle_is_a_permutation_reproducible_from_the_seed_and_new_each_epoch():
    labels = np.arange(50)
    images = np.zeros((50, 2, 2, 1), dtype=np.float32)

    def epochs(seed, count=2):
        dataset = pipelines.make_dataset(images, labels, batch_size=50, shuffle=True, seed=seed)
        return [_epoch(dataset)[0] for _ in range(count)]

    first, second = epochs(3)
    assert sorted(first) == labels.tolist()
    assert first != labels.tolist()
    assert first != second  # reshuffled every epoch
    assert epochs(3) == [first, second]  # same seed, same orders
    assert epochs(4)[0] != first
    runtime.setup("quick", seed=3, verbose=False)  # (tf.data's order also depends on the global seed it sets)
    try:
        explicit = _epoch(pipelines.make_dataset(images, labels, batch_size=50, shuffle=True, seed=3))[0]
        default = _epoch(pipelines.make_dataset(images, labels, batch_size=50, shuffle=True))[0]  # the runtime's seed
        assert default == explicit
    finally:
        runtime.setup("quick", seed=0, verbose=False)


def test_array_dataset_on_any_backend():
    # The pipeline of the non-TensorFlow backends, tested on every backend.
    dataset = pipelines.ArrayDataset(np.arange(10.0)[:, None], np.arange(10), batch_size=4, shuffle=True, seed=0)
    assert len(dataset) == 3
    assert [_labels(dataset[i]).tolist() for i in range(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dataset.on_epoch_begin()
    order = sum((_labels(dataset[i]).tolist() for i in range(3)), [])
    assert sorted(order) == list(range(10)) and order == np.random.default_rng(0).permutation(10).tolist()
    with pytest.raises(IndexError):
        dataset[3]


def test_make_mnist_datasets(tiny_mnist):
    # tiny_mnist (conftest): 32 training and 8 test images
    train, test = pipelines.make_mnist_datasets(tiny_mnist, batch_size=10)
    assert [len(labels) for labels in _epoch(train)] == [10, 10, 10, 2]
    assert _epoch(test) == [list(range(8))]
    if _backend.use_tensorflow():
        images, labels = next(iter(test))
        assert images.shape == (8, 28, 28, 1) and images.dtype.name == "float32"


def test_make_dataset_errors():
    with pytest.raises(ValueError, match="one row per example"):
        pipelines.make_dataset(np.zeros((4, 2, 2, 1)), np.arange(3))
    with pytest.raises(ValueError, match=r"values in \[0.0, 1.0\]"):
        pipelines.make_dataset(np.full((2, 2, 2, 1), 255.0))
    with pytest.raises(ValueError, match="batch_size"):
        pipelines.make_dataset(np.zeros((4, 2, 2, 1)), batch_size=0)
    with pytest.raises(ValueError, match=r"`targets` must have one row per example; received a scalar"):
        pipelines.make_dataset(np.zeros((4, 2, 2, 1)), 3)


def test_make_mnist_datasets_errors(tiny_mnist):
    with pytest.raises(TypeError, match="MNIST named tuple"):
        pipelines.make_mnist_datasets((np.zeros((2, 28, 28, 1)), np.zeros(2)))
    bad = tiny_mnist._replace(y_train=np.arange(32) + 5)
    with pytest.raises(ValueError, match=r"`mnist.y_train` must lie in \[0, 9\]"):
        pipelines.make_mnist_datasets(bad)
    with pytest.raises(ValueError, match="one label per image"):
        pipelines.make_mnist_datasets(tiny_mnist._replace(y_test=np.array([0, 1])))
    with pytest.raises(ValueError, match="One-hot"):
        pipelines.make_mnist_datasets(tiny_mnist._replace(y_test=np.eye(10)[:8]))
