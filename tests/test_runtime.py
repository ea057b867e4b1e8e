"""Tests of cnn_tutor.runtime: profiles, seeds, set-up on any backend, GPU checks, budgets, recorded figures."""

import json
import os
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

from cnn_tutor import _backend, _devices, report, runtime


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


def test_tests_force_the_quick_profile():
    # tests/conftest.py sets CNN_TUTOR_PROFILE=quick, so a GPU machine does not pick `full` in `make test`.
    assert os.environ["CNN_TUTOR_PROFILE"] == "quick"
    assert runtime.resolve_profile(None, gpu_available=True) == "quick"


def test_setup_picks_quick_on_cpu_and_prints_banner(capsys, no_profile_env, backend):
    rt = runtime.setup()
    banner = capsys.readouterr().out.strip()
    assert rt.profile == ("full" if rt.gpus else "quick")
    assert banner == rt.banner
    assert banner.startswith(f"cnn_tutor | profile: {rt.profile} | device: ")
    library = {"tensorflow": "TensorFlow 2.", "jax": "JAX 0."}[backend]
    assert f"| backend: {backend} | {library}" in banner and "Keras 3." in banner
    assert rt.backend == backend and rt.versions["backend"] == backend
    assert runtime.current_profile() == rt.profile
    assert runtime.current_seed() == rt.seed == 0


def test_setup_reports_logical_cpus_from_affinity_and_the_cpu_model(no_profile_env):
    rt = runtime.setup(verbose=False)
    assert rt.logical_cpus == len(os.sched_getaffinity(0))
    assert f"{rt.logical_cpus} logical CPU" in rt.device
    if rt.cpu_model:
        assert rt.cpu_model in rt.device


def test_cpu_model_is_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R)  Xeon(R)   Gold 6230\n\n")
    assert _devices.cpu_model(str(info)) == "Intel(R) Xeon(R) Gold 6230"


def test_logical_cpus_follow_the_process_affinity():
    # A child restricted to one CPU with sched_setaffinity reports 1, whatever the machine has.
    code = (
        "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
        "from cnn_tutor import _devices; print(_devices.logical_cpus(), _devices.cpu_description())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.startswith("1 1 logical CPU")
    assert "logical CPUs" not in result.stdout


def test_current_seed_is_the_seed_of_the_last_setup():
    runtime.setup("quick", seed=5, verbose=False)
    try:
        assert runtime.current_seed() == 5 and runtime.resolve_seed(None) == 5 and runtime.resolve_seed(2) == 2
        with pytest.raises(ValueError, match="`seed` must be >= 0"):
            runtime.resolve_seed(-1)
    finally:
        runtime.setup("quick", seed=0, verbose=False)


def test_setup_seeds_everything(backend):
    import keras

    runtime.setup("quick", seed=7, verbose=False)
    first = (np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,))))
    runtime.setup("quick", seed=7, verbose=False)
    second = (np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,))))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    runtime.setup("quick", seed=8, verbose=False)
    assert not np.array_equal(first[0], np.random.rand(3))
    runtime.setup("quick", seed=0, verbose=False)


def test_setup_turns_op_determinism_on_and_off(tensorflow_backend):
    from tensorflow.python.framework import config as tf_config  # no public getter exists

    try:
        rt = runtime.setup("quick", deterministic=False, verbose=False)
        assert not tf_config.is_op_determinism_enabled() and not rt.deterministic
        assert rt.banner.endswith("| deterministic: off")
        rt = runtime.setup("quick", verbose=False)
        assert tf_config.is_op_determinism_enabled() and rt.deterministic
        assert "deterministic" not in rt.banner
    finally:
        runtime.setup("quick", verbose=False)
    with pytest.raises(TypeError, match="`deterministic` must be True or False; received 'yes'"):
        runtime.setup("quick", deterministic="yes")


def test_jax_determinism_flag_is_set_before_jax_starts(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
    monkeypatch.setattr(_devices, "nvidia_gpu_present", lambda: False)
    _devices.prepare_jax(True)
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_enable_fast_math=false --xla_gpu_deterministic_ops=true"
    _devices.prepare_jax(True)  # once only
    assert os.environ["XLA_FLAGS"].count("deterministic_ops") == 1
    monkeypatch.setenv("XLA_FLAGS", "")
    _devices.prepare_jax(False)
    assert os.environ["XLA_FLAGS"] == ""


def test_warns_when_an_nvidia_gpu_is_there_but_the_backend_sees_none(monkeypatch):
    assert _devices.gpu_visibility_warning(False, [], "tensorflow") is None
    assert _devices.gpu_visibility_warning(True, ["NVIDIA H200"], "tensorflow") is None
    message = _devices.gpu_visibility_warning(True, [], "jax")
    assert "NVIDIA GPU" in message and "JAX sees none" in message and "jax[cuda12]" in message
    monkeypatch.setattr(_devices, "nvidia_gpu_present", lambda: True)
    with pytest.warns(RuntimeWarning, match="sees none, so everything runs on the CPU"):
        runtime.setup("quick", verbose=False)


def test_nvidia_gpu_detection(monkeypatch, tmp_path):
    monkeypatch.setattr(_devices.os.path, "isdir", lambda path: False)
    monkeypatch.setattr(_devices.shutil, "which", lambda name: None)
    assert _devices.nvidia_gpu_present() is False
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H200 (UUID: GPU-1)'\n")
    smi.chmod(0o755)
    monkeypatch.setattr(_devices.shutil, "which", lambda name: str(smi))
    assert _devices.nvidia_gpu_present() is True


class _FakeConfig:
    """The piece of ``tf.config.experimental`` that memory growth uses, with a GPU already initialised."""

    def __init__(self, growth):
        self.growth = growth

    def set_memory_growth(self, gpu, value):
        raise RuntimeError("Physical devices cannot be modified after being initialized")

    def get_memory_growth(self, gpu):
        return self.growth


def test_memory_growth_set_too_late_warns_instead_of_being_swallowed():
    gpu = types.SimpleNamespace(name="/physical_device:GPU:0")
    late = types.SimpleNamespace(config=types.SimpleNamespace(experimental=_FakeConfig(growth=False)))
    with pytest.warns(RuntimeWarning, match="memory growth could not be turned on for /physical_device:GPU:0"):
        _devices.enable_memory_growth(late, [gpu])
    already = types.SimpleNamespace(config=types.SimpleNamespace(experimental=_FakeConfig(growth=True)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _devices.enable_memory_growth(already, [gpu])  # an earlier setup() turned it on: nothing to say


def test_versions_name_the_backend_and_find_tensorflow_cpu(monkeypatch):
    versions = _backend.versions()
    assert versions["backend"] == _backend.name() and versions["keras"].startswith("3.")
    # A TensorFlow installed as the tensorflow-cpu wheel is found under that distribution name.
    import importlib.metadata

    real = importlib.metadata.version

    def fake(name):
        if name == "tensorflow":
            raise importlib.metadata.PackageNotFoundError(name)
        return "2.99.0" if name == "tensorflow-cpu" else real(name)

    monkeypatch.setattr(importlib.metadata, "version", fake)
    assert _backend.distribution_version(*_backend.TENSORFLOW_DISTRIBUTIONS) == "2.99.0"


def test_require_tensorflow_names_the_lesson_and_the_backend(monkeypatch):
    monkeypatch.setattr(_backend, "name", lambda: "jax")
    with pytest.raises(RuntimeError, match=r"profile_flops is a TensorFlow lesson .* runs the 'jax' backend"):
        _backend.require_tensorflow("profile_flops")
    monkeypatch.setattr(_backend, "name", lambda: "tensorflow")
    monkeypatch.setattr(_backend, "tensorflow_available", lambda: False)
    with pytest.raises(RuntimeError, match="needs TensorFlow, which is not installed"):
        _backend.require_tensorflow("profile_flops")


def test_backend_name_follows_keras_rules_without_importing_keras(monkeypatch, tmp_path):
    code = "from cnn_tutor import _backend; import sys; print(_backend.name(), 'keras' in sys.modules)"
    env = {**os.environ, "KERAS_HOME": str(tmp_path)}
    env.pop("KERAS_BACKEND", None)
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True)
    assert result.stdout.split() == ["jax", "False"]
    env["KERAS_BACKEND"] = "torch"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True)
    assert result.stdout.split() == ["torch", "False"]


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


def test_setup_warns_when_tensorflow_came_first(tensorflow_backend):
    code = "import tensorflow\nimport cnn_tutor\ncnn_tutor.setup('quick', verbose=False)\n"
    result = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "TensorFlow was imported before cnn_tutor.setup()" in result.stderr


def _runtime(profile="quick"):
    return runtime.Runtime(profile=profile, seed=0, device="CPU", gpus=(), versions={"tensorflow": "x", "keras": "y"})


def test_banner_names_device_backend_and_versions():
    rt = runtime.Runtime(profile="full", seed=3, device="GPU NVIDIA H200, host 16 logical CPUs (AMD EPYC)", gpus=("H200",),
                         versions={"jax": "0.4.31", "keras": "3.5.0"}, backend="jax")
    assert rt.banner == (
        "cnn_tutor | profile: full | device: GPU NVIDIA H200, host 16 logical CPUs (AMD EPYC) | backend: jax | "
        "JAX 0.4.31 | Keras 3.5.0 | seed: 3"
    )


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
