"""What a process runs on: device, backend, library versions, CPU model and logical CPUs, commit.

Private: the public names are re-exported by :mod:`cnn_tutor.bench`.
"""

import os
import pathlib
import platform
import subprocess
import sys

from cnn_tutor import runtime
from cnn_tutor.bench._results import RESULTS_DIR

#: The distributions whose versions a record lists (those installed).
_DISTRIBUTIONS = (
    "tensorflow", "tensorflow-cpu", "tensorflow-macos", "keras", "jax", "jaxlib", "torch",
    "numpy", "scipy", "scikit-image", "matplotlib",
)


def _cpu_model():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                  text=True, timeout=5).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or None


def _logical_cpus():
    """The CPUs this process may run on (its affinity), which a container or ``taskset`` may limit."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def _versions():
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def environment_facts():
    """What this process computes on: device, backend, versions, CPU model and logical CPUs.

    The benchmark calls it in each chapter's kernel after the last cell.  The
    device and profile come from the chapter's :func:`cnn_tutor.setup` (None
    if it did not call it); the backend is Keras's, if Keras was imported;
    versions come from the installed distributions (``importlib.metadata``,
    so ``tensorflow`` and ``tensorflow-cpu`` are both found).  Nothing here
    imports TensorFlow.

    Returns
    -------
    dict
        ``device``, ``device_kind`` (``"gpu"``, ``"cpu"`` or None),
        ``profile``, ``backend``, ``cpu_model``, ``logical_cpus``, ``versions``.

    Examples
    --------
    >>> facts = environment_facts()
    >>> sorted(facts)
    ['backend', 'cpu_model', 'device', 'device_kind', 'logical_cpus', 'profile', 'versions']
    >>> facts["logical_cpus"] >= 1 and "python" in facts["versions"]
    True
    """
    current = runtime._current
    backend = None
    if "keras" in sys.modules:
        backend = sys.modules["keras"].config.backend()
    return {
        "device": None if current is None else current.device,
        "device_kind": None if current is None else ("gpu" if current.gpus else "cpu"),
        "profile": None if current is None else current.profile,
        "backend": backend,
        "cpu_model": _cpu_model(),
        "logical_cpus": _logical_cpus(),
        "versions": _versions(),
    }


def _git_state(root):
    """(short commit, whether the package or chapters differ from it), or (None, None) outside git."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10)
        if commit.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "cnn_tutor", "book", f":!{RESULTS_DIR.as_posix()}"],
            capture_output=True, text=True, timeout=10,
        )
        return commit.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None
