"""Tests of cnn_tutor.timing against time.sleep, and of the device synchronisation."""

import time

import numpy as np
import pytest

from cnn_tutor import timing


def test_timer_measures_a_sleep():
    with timing.Timer() as timer:
        assert timer.seconds is None
        time.sleep(0.2)
    assert 0.2 <= timer.seconds < 0.35


def test_compare_timings_measures_each_function_and_takes_turns():
    calls = []

    def sleeper(name, seconds):
        def function(value):
            calls.append(name)
            time.sleep(seconds)
            return value

        return function

    timings = timing.compare_timings({"short": sleeper("short", 0.02), "long": sleeper("long", 0.06)}, 1,
                                     repeats=4, warmup=1)
    assert calls == ["short", "long"] * 5  # one warm-up each, then one of each per round
    assert 0.02 <= timings["short"].median < 0.045 and 0.06 <= timings["long"].median < 0.09
    assert 2.0 < timings["long"].median / timings["short"].median < 3.5
    assert len(timings["long"].times) == 4 and timings["long"].median == float(np.median(timings["long"].times))


def test_spread_is_the_interquartile_range():
    result = timing.Timing(median=2.0, times=(1.0, 2.0, 3.0, 4.0, 100.0))
    assert result.spread == pytest.approx(2.0) and result.relative_spread == pytest.approx(1.0)


def test_numpy_arguments_go_to_the_device_once_and_results_are_synchronised(backend):
    import keras

    seen = []

    def function(x):
        seen.append(type(x).__module__.split(".")[0])
        return keras.ops.sum(x)

    timing.compare_timings({"sum": function}, np.ones((4, 4), "float32"), repeats=2, warmup=0)
    expected = {"tensorflow": "tensorflow", "jax": "jaxlib"}[backend]
    assert set(seen) <= {expected, "jax"} and len(seen) == 2
    seen.clear()
    timing.compare_timings({"sum": lambda x: seen.append(type(x)) or x.sum()}, np.ones(3), repeats=1, warmup=0,
                           on_device=False)
    assert seen == [np.ndarray]
    value = keras.ops.ones((3,))
    assert timing.synchronize({"a": [value]})["a"][0] is value


def test_compare_timings_errors():
    with pytest.raises(ValueError, match=r"`functions` must be a non-empty dict"):
        timing.compare_timings({}, 1)
    with pytest.raises(TypeError, match=r"`functions\['a'\]` must be callable; received int"):
        timing.compare_timings({"a": 1}, 1)
    with pytest.raises(ValueError, match=r"`repeats` must be >= 1; received 0"):
        timing.compare_timings({"a": abs}, 1, repeats=0)
    with pytest.raises(TypeError, match=r"`on_device` must be True or False"):
        timing.compare_timings({"a": abs}, 1, on_device="yes")
