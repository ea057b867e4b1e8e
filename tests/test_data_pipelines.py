"""Tests of cnn_tutor.data.pipelines: tf.data pipelines for the splits."""

import numpy as np
import pytest

from cnn_tutor.data import pipelines


@pytest.mark.parametrize("batch_size, sizes", [(4, [4, 4, 2]), (10, [10]), (64, [10])])
def test_make_dataset_batches(batch_size, sizes):
    images = np.zeros((10, 5, 5, 1), dtype=np.float32)
    dataset = pipelines.make_dataset(images, np.arange(10), batch_size=batch_size)
    assert [int(x.shape[0]) for x, _ in dataset] == sizes


def test_make_dataset_without_labels_yields_images():
    dataset = pipelines.make_dataset(np.zeros((3, 4, 4, 1)), batch_size=2)
    shapes = [tuple(batch.shape) for batch in dataset]
    assert shapes == [(2, 4, 4, 1), (1, 4, 4, 1)]


def test_unshuffled_order_is_kept():
    labels = np.arange(7)
    dataset = pipelines.make_dataset(np.zeros((7, 2, 2, 1)), labels, batch_size=3)
    assert np.concatenate([y.numpy() for _, y in dataset]).tolist() == labels.tolist()


def test_shuffle_is_a_permutation_reproducible_from_the_seed_and_new_each_epoch():
    labels = np.arange(50)
    images = np.zeros((50, 2, 2, 1), dtype=np.float32)

    def epochs(seed, count=2):
        dataset = pipelines.make_dataset(images, labels, batch_size=50, shuffle=True, seed=seed)
        return [next(iter(dataset))[1].numpy().tolist() for _ in range(count)]

    first, second = epochs(3)
    assert sorted(first) == labels.tolist()
    assert first != labels.tolist()
    assert first != second  # reshuffled every epoch
    assert epochs(3) == [first, second]  # same seed, same orders


def test_make_mnist_datasets(tiny_mnist):
    # tiny_mnist (conftest): 32 training and 8 test images
    train, test = pipelines.make_mnist_datasets(tiny_mnist, batch_size=10)
    assert [int(y.shape[0]) for _, y in train] == [10, 10, 10, 2]
    images, labels = next(iter(test))
    assert images.shape == (8, 28, 28, 1) and images.dtype.name == "float32"
    assert labels.numpy().tolist() == list(range(8))


def test_make_dataset_errors():
    with pytest.raises(ValueError, match="one row per image"):
        pipelines.make_dataset(np.zeros((4, 2, 2, 1)), np.arange(3))
    with pytest.raises(ValueError, match="4-D"):
        pipelines.make_dataset(np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match=r"values in \[0.0, 1.0\]"):
        pipelines.make_dataset(np.full((2, 2, 2, 1), 255.0))
    with pytest.raises(ValueError, match="batch_size"):
        pipelines.make_dataset(np.zeros((4, 2, 2, 1)), batch_size=0)


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
