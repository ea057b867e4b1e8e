"""Tests of cnn_tutor.models.training.fit: the epoch timer, validation, early stopping, seeds and errors."""

import time

import numpy as np
import pytest

from cnn_tutor import runtime
from cnn_tutor.models import training

keras = pytest.importorskip("keras")


def _linear(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


@pytest.fixture
def regression():
    x = np.random.default_rng(0).random((40, 3)).astype(np.float32)
    return x, x @ np.array([[1.0], [-2.0], [0.5]], np.float32)


class _SleepOnce(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 0:
            time.sleep(0.5)


def test_the_epoch_timer_times_each_epoch_on_its_own(regression):
    run = training.fit(_linear(), *regression, epochs=2, batch_size=8, callbacks=[_SleepOnce()])
    first, second = run.epoch_seconds
    assert first >= 0.5 and second < 0.5  # a running total would give the second epoch the first one's sleep


def test_fit_learns_and_reports_per_epoch(regression):
    run = training.fit(_linear(), *regression, epochs=5, batch_size=8)
    assert len(run.history["loss"]) == len(run.epoch_seconds) == 5 and run.final_epoch == 5
    assert run.history["loss"][-1] < run.history["loss"][0] / 2
    assert all(isinstance(value, float) for value in run.history["loss"])


def test_validation_split_holds_out_a_seeded_share(regression):
    x, y = regression
    (x_train, y_train), (x_val, y_val) = training._split(x, y, 0.25, seed=3)
    assert len(x_val) == 10 and len(x_train) == 30
    rows = sorted(np.flatnonzero(np.isin(x[:, 0], x_val[:, 0])).tolist())
    assert rows == sorted(np.random.default_rng(3).permutation(40)[:10].tolist())  # a seeded random choice
    np.testing.assert_array_equal(y_val, y[rows])
    run = training.fit(_linear(), x, y, epochs=2, batch_size=8, validation_split=0.25)
    assert set(run.history) == {"loss", "val_loss"}


def test_early_stopping_keeps_the_best_epoch(regression):
    x, y = regression
    model = _linear()
    model.compile(optimizer=keras.optimizers.SGD(2.5), loss="mse")  # far too large: the loss diverges
    run = training.fit(model, x, y, epochs=30, batch_size=40, validation=(x, y), early_stopping=2)
    losses = run.history["val_loss"]
    assert len(losses) < 30  # stopped early
    best = float(np.mean((np.asarray(model.predict(x, verbose=0)) - y) ** 2))
    assert best == pytest.approx(min(losses), rel=1e-4)  # the weights of the best epoch were put back


def test_the_seed_defaults_to_the_runtimes(regression):
    runs = []
    for seed in (4, None):
        if seed is None:
            runtime.setup("quick", seed=4, verbose=False)
        try:
            model = _linear()
            runs.append(training.fit(model, *regression, epochs=2, batch_size=8, seed=seed).history["loss"])
        finally:
            runtime.setup("quick", seed=0, verbose=False)
    assert runs[0] == runs[1]


def test_fit_errors(regression):
    x, y = regression
    with pytest.raises(ValueError, match="`early_stopping` \\(2\\) needs validation data"):
        training.fit(_linear(), x, y, epochs=2, early_stopping=2)
    with pytest.raises(ValueError, match="at most one of `validation` and `validation_split`"):
        training.fit(_linear(), x, y, epochs=1, validation=(x, y), validation_split=0.2)
    with pytest.raises(ValueError, match="`validation_split` must leave at least one example"):
        training.fit(_linear(), x, y, epochs=1, validation_split=0.001)
    with pytest.raises(ValueError, match="`targets` must have one row per example \\(40\\); received 39"):
        training.fit(_linear(), x, y[:39], epochs=1)
    with pytest.raises(ValueError, match="`epochs` must be >= 1"):
        training.fit(_linear(), x, y, epochs=0)


def test_keep_best_restores_the_weights_of_the_best_scored_epoch(regression):
    model, (x, y) = _linear(), regression
    scripted = iter([0.1, 0.5, 0.5, 0.3])  # epoch 2 is best (3 ties it; the earlier epoch wins)
    after = {}

    def score(m):
        after[len(after) + 1] = [w.copy() for w in m.get_weights()]
        return next(scripted)

    keep = training.KeepBest(score)
    training.fit(model, x, y, epochs=4, batch_size=16, callbacks=[keep])
    assert keep.scores == {1: 0.1, 2: 0.5, 3: 0.5, 4: 0.3} and keep.best_epoch == 2
    for restored, kept in zip(model.get_weights(), after[2]):
        np.testing.assert_array_equal(restored, kept)
    assert not all(np.array_equal(a, b) for a, b in zip(after[2], after[4]))


def test_keep_best_errors(regression):
    model, (x, y) = _linear(), regression
    with pytest.raises(TypeError, match="`score` must be callable"):
        training.KeepBest(0.5)
    with pytest.raises(ValueError, match=r"`score` returned nan after epoch 1"):
        training.fit(model, x, y, epochs=1, batch_size=16, callbacks=[training.KeepBest(lambda m: float("nan"))])
