"""Tests of cnn_tutor.runtime: profiles, set-up, budgets, recorded figures."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cnn_tutor import report, runtime


@pytest.mark.parametrize("name", runtime.PROFILES)
def test_resolve_profile_argument_wins(name, monkeypatch):
    monkeypatch.setenv("CNN_TUTOR_PROFILE", "quick" if name == "full" else "full")
    assert runtime.resolve_profile(name) == name


@pytest.mark.parametrize(("gpu", "expected"), [(False, "quick"), (True, "full")])
def test_resolve_profile_default_follows_device(gpu, expected, no_profile_env):
    assert runtime.resolve_profile(None, gpu_available=gpu) == expected


def test_resolve_profile_environment_overrides_device(monkeypatch):
    monkeypatch.setenv("CNN_TUTOR_PROFILE", "full")
    assert runtime.resolve_profile(None, gpu_available=False) == "full"
    monkeypatch.setenv("CNN_TUTOR_PROFILE", "quick")
    assert runtime.resolve_profile(None, gpu_available=True) == "quick"


def test_unknown_profile_lists_the_valid_ones(monkeypatch):
    with pytest.raises(ValueError, match=r"`profile` must be one of 'quick', 'full'; received 'turbo'"):
        runtime.resolve_profile("turbo")
    monkeypatch.setenv("CNN_TUTOR_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"CNN_TUTOR_PROFILE` must be one of 'quick', 'full'; received 'fast'"):
        runtime.resolve_profile(None)


def test_setup_rejects_unknown_profile_before_importing_tensorflow(monkeypatch):
    monkeypatch.setenv("CNN_TUTOR_PROFILE", "fast")
    with pytest.raises(ValueError, match="CNN_TUTOR_PROFILE"):
        runtime.setup()
    with pytest.raises(ValueError, match="received 'medium'"):
        runtime.setup("medium")
    with pytest.raises(ValueError, match="`seed` must be >= 0"):
        runtime.setup("quick", seed=-1)


def test_setup_picks_quick_on_cpu_and_prints_banner(capsys, no_profile_env):
    rt = runtime.setup()
    banner = capsys.readouterr().out.strip()
    assert rt.profile == ("full" if rt.gpus else "quick")
    assert banner == rt.banner
    assert banner.startswith(f"cnn_tutor | profile: {rt.profile} | device: ")
    assert "TensorFlow 2." in banner and "Keras 3." in banner
    assert runtime.current_profile() == rt.profile


def test_setup_seeds_everything_and_enables_determinism():
    import tensorflow as tf

    runtime.setup("quick", seed=7, verbose=False)
    first = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    runtime.setup("quick", seed=7, verbose=False)
    second = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    from tensorflow.python.framework import config as tf_config  # no public getter exists

    assert tf_config.is_op_determinism_enabled()


def test_setup_keeps_tensorflow_start_up_lines_out_of_stderr():
    """A fresh interpreter: import cnn_tutor, set up, train one step; stderr stays empty."""
    code = (
        "import cnn_tutor; rt = cnn_tutor.setup('quick', verbose=False)\n"
        "import keras, numpy as np\n"
        "m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])\n"
        "m.compile(optimizer='adam', loss='mse')\n"
        "m.fit(np.zeros((8, 4)), np.zeros((8, 1)), epochs=1, verbose=0)\n"
        "print('done')\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert result.stderr == ""


def test_setup_warns_when_tensorflow_came_first():
    code = "import tensorflow\nimport cnn_tutor\ncnn_tutor.setup('quick', verbose=False)\n"
    result = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "TensorFlow was imported before cnn_tutor.setup()" in result.stderr


def _runtime(profile="quick"):
    return runtime.Runtime(profile=profile, seed=0, device="CPU", gpus=(), versions={"tensorflow": "x", "keras": "y"})


@pytest.mark.parametrize(("profile", "expected"), [("quick", 3), ("full", 30)])
def test_epochs_follow_profile(profile, expected):
    assert _runtime(profile).epochs(quick=3, full=30) == expected


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"quick": 0, "full": 3}, ValueError, "`quick` must be >= 1; received 0"),
        ({"quick": 2, "full": 2.5}, TypeError, "`full` must be an integer; received 2.5"),
        ({"quick": True, "full": 3}, TypeError, "`quick` must be an integer"),
    ],
)
def test_epochs_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        _runtime().epochs(**kwargs)


def test_record_prints_target_and_verdict(capsys):
    rt = _runtime()
    returned = [
        rt.record("accuracy", 0.96, at_least=0.95),
        rt.record("time", 12.5, unit="s", at_most=10, fmt=".1f"),
        rt.record("ratio", 2.0, tolerance=0.01),
    ]
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "accuracy: 0.960 (target >= 0.95: met)",
        "time: 12.5 s (target <= 10 s: MISSED)",
        "ratio: 2.000",
    ]
    assert returned == [None, None, None]  # so that a cell can end with rt.record(...) and show nothing more
    assert [(figure.name, figure.value, figure.met) for figure in rt.records] == [
        ("accuracy", 0.96, True), ("time", 12.5, False), ("ratio", 2.0, None),
    ]
    assert rt.records[1].target == "<= 10" and rt.records[1].unit == "s"


def test_record_with_a_tolerance_marks_the_value_in_a_kernel(monkeypatch):
    """In a Jupyter kernel the line is a display_data whose metadata locates the value (see cnn_tutor.report)."""
    published = []
    monkeypatch.setattr(report, "_kernel_shell", lambda: object())
    monkeypatch.setattr("IPython.display.publish_display_data", lambda data, metadata: published.append((data, metadata)))
    _runtime().record("PSNR gain", 0.1234, unit="dB", at_least=0.1, fmt=".2f", tolerance=0.05)
    ((data, metadata),) = published
    assert data == {"text/plain": "PSNR gain: 0.12 dB (target >= 0.1 dB: met)"}
    assert metadata == {"cnn_tutor": {"approx": [
        {"name": "PSNR gain", "text": "0.12", "start": 11, "value": 0.1234, "tolerance": 0.05},
    ]}}


def test_record_appends_json_lines_when_asked(tmp_path, monkeypatch, capsys):
    path = tmp_path / "records.jsonl"
    monkeypatch.setenv(runtime.RECORD_ENV, str(path))
    monkeypatch.setenv(runtime.CHAPTER_ENV, "concepts")
    rt = _runtime()
    rt.record("a", 1.0, at_least=0.5)
    rt.record("b", 2.0, unit="dB")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [row["name"] for row in rows] == ["a", "b"]
    assert rows[0] == {
        "name": "a", "value": 1.0, "unit": "", "target": ">= 0.5", "met": True,
        "profile": "quick", "device": "CPU", "chapter": "concepts",
        "versions": {"tensorflow": "x", "keras": "y"},
    }


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("", 1.0), {}, TypeError, "`name` must be a non-empty string"),
        (("x", "high"), {}, TypeError, "`value` must be a real number; received 'high'"),
        (("x", float("nan")), {}, ValueError, "`value` must be finite"),
        (("x", 1.0), {"at_least": 0, "at_most": 2}, ValueError, "at most one of `at_least` and `at_most`"),
        (("x", 1.0), {"tolerance": -0.1}, ValueError, "`tolerance` must be >= 0.0; received -0.1"),
        (("x", 1.0), {"tolerance": "0.1"}, TypeError, "`tolerance` must be a real number; received '0.1'"),
        (("x", 1.0), {"fmt": ".3q"}, ValueError, "`fmt` must be a format specification for a float"),
        (("x", 1.0), {"unit": None}, TypeError, "`unit` must be a string; received None"),
    ],
)
def test_record_errors(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        _runtime().record(*args, **kwargs)


def test_quiet_stderr_silences_file_descriptor_2_only_inside(capfd):
    with runtime.quiet_stderr():
        os.write(2, b"hidden\n")
    os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"


def test_timer_measures_elapsed_time():
    with runtime.Timer() as timer:
        sum(range(10_000))
    assert timer.seconds > 0
