"""What this process computes on: the host CPU (affinity, model), the GPUs each backend sees, a quiet start.

Private: :mod:`cnn_tutor.runtime` builds the banner's device and the
:class:`~cnn_tutor.runtime.Runtime`'s fields from these, warns when an NVIDIA
GPU is installed but the backend sees none, and imports TensorFlow with its
start-up lines silenced (:func:`quiet_stderr`, :func:`import_tensorflow_quietly`).
It also describes the device for :func:`cnn_tutor.runtime.device_description`
and turns on inline figures in a Jupyter kernel.
"""

import contextlib
import os
import pathlib
import shutil
import subprocess
import sys
import warnings

from cnn_tutor import _backend

__all__ = [
    "JAX_DETERMINISM_FLAG",
    "cpu_description",
    "cpu_model",
    "describe",
    "gpu_names",
    "gpu_visibility_warning",
    "import_tensorflow_quietly",
    "jax_gpus",
    "logical_cpus",
    "nvidia_gpu_present",
    "prepare_jax",
    "quiet_stderr",
    "set_determinism",
    "start_backend",
    "tensorflow_gpu_names",
]

#: The XLA flag that makes JAX's GPU kernels deterministic.
JAX_DETERMINISM_FLAG = "--xla_gpu_deterministic_ops=true"


@contextlib.contextmanager
def quiet_stderr():
    """Send what C++ code writes to file descriptor 2 to ``/dev/null`` for a while.

    TensorFlow prints start-up lines ("All log messages before
    absl::InitializeLog() is called...", oneDNN and CUDA notices) straight to
    file descriptor 2 while it is imported and runs its first op, whatever
    ``TF_CPP_MIN_LOG_LEVEL`` says.  Python's own ``sys.stderr`` is flushed
    first and restored after, so Python warnings and tracebacks still show.

    Examples
    --------
    >>> import os
    >>> with quiet_stderr():
    ...     _ = os.write(2, b"this line goes nowhere\\n")
    """
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):  # a closed or missing stream
        pass
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def logical_cpus():
    """Logical CPUs this process may run on: its affinity where the OS has one, else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count()


def _cpuinfo_field(keys, cpuinfo):
    """The first non-empty value of one of ``keys`` in ``cpuinfo`` (``/proc/cpuinfo``), or ``None``."""
    try:
        text = pathlib.Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keys and value.strip():
            return value
    return None


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The CPU model named in ``/proc/cpuinfo`` (Linux), else ``platform.processor()``, else ``None``."""
    value = _cpuinfo_field(("model name", "Model", "cpu model"), cpuinfo)
    if value is not None:
        return " ".join(value.split())
    import platform

    return platform.processor() or None


#: CPU flags (as ``/proc/cpuinfo`` names them) for native bfloat16 arithmetic.
BFLOAT16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    r"""The instruction-set flags ``/proc/cpuinfo`` lists for the first CPU (Linux), as a frozenset.

    Empty where the file is missing or lists none (macOS, Windows).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> info = pathlib.Path(tempfile.mkdtemp()) / "cpuinfo"
    >>> _ = info.write_text("processor : 0\nflags : fpu avx2 amx_bf16\n\nprocessor : 1\nflags : fpu\n")
    >>> sorted(cpu_flags(info)), sorted(cpu_flags(info.with_name("missing")))
    (['amx_bf16', 'avx2', 'fpu'], [])
    """
    return frozenset((_cpuinfo_field(("flags", "Features"), cpuinfo) or "").split())


def bfloat16_flags(flags=None):
    """The native-bfloat16 flags among ``flags`` (default: :func:`cpu_flags`), sorted; empty if none.

    Examples
    --------
    >>> bfloat16_flags({"avx2", "avx512_bf16", "amx_bf16"}), bfloat16_flags({"avx2"})
    (('amx_bf16', 'avx512_bf16'), ())
    """
    flags = cpu_flags() if flags is None else set(flags)
    return tuple(sorted(set(BFLOAT16_FLAGS) & flags))


def cpu_description():
    """The host CPU as the banner names it: logical CPUs of this process and the CPU model.

    Examples
    --------
    >>> "logical CPU" in cpu_description()
    True
    """
    count, model = logical_cpus(), cpu_model()
    text = f"{count} logical CPU{'s' if count != 1 else ''}"
    return f"{text} ({model})" if model else text


def nvidia_gpu_present():
    """Whether this machine has an NVIDIA GPU and driver, whatever the libraries see.

    True when ``/proc/driver/nvidia`` exists or ``nvidia-smi -L`` lists a GPU.
    """
    if os.path.isdir("/proc/driver/nvidia"):
        return True
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        result = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and "GPU" in result.stdout


def gpu_visibility_warning(nvidia_present, visible_gpus, backend):
    """The warning to give when an NVIDIA GPU is there but the backend sees none (else ``None``)."""
    if not nvidia_present or visible_gpus:
        return None
    library = _backend.library_label(backend)
    return (
        f"This machine has an NVIDIA GPU (nvidia-smi or /proc/driver/nvidia), but {library} sees none, so "
        "everything runs on the CPU. Its CUDA libraries are probably missing or do not match the driver: "
        "for TensorFlow, pip install 'tensorflow[and-cuda]'; for JAX, pip install 'jax[cuda12]'."
    )


def tensorflow_gpu_names(tf, gpus):
    names = []
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return names


def jax_gpus():
    """Names of the GPUs JAX computes on (its default backend's devices, when that backend is a GPU)."""
    import jax

    return [getattr(device, "device_kind", str(device)) for device in jax.devices() if device.platform == "gpu"]


def describe(gpu_names):
    cpu = cpu_description()
    if not gpu_names:
        return f"CPU, {cpu}"
    if len(set(gpu_names)) == 1:
        gpus = f"{len(gpu_names)} x GPU {gpu_names[0]}" if len(gpu_names) > 1 else f"GPU {gpu_names[0]}"
    else:
        gpus = "GPUs " + ", ".join(gpu_names)
    return f"{gpus}, host {cpu}"


def enable_memory_growth(tf, gpus):
    """Turn on memory growth for every GPU; warn where it comes too late to take effect.

    TensorFlow fixes the setting when it first initialises a GPU.  An earlier
    ``setup()`` in the same process has already turned it on (fine); any
    other first use of TensorFlow has left it off, and TensorFlow then holds
    nearly all of each GPU's memory.
    """
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            if not tf.config.experimental.get_memory_growth(gpu):
                warnings.warn(
                    f"GPU memory growth could not be turned on for {gpu.name}: TensorFlow had already "
                    "initialised the GPU, so it holds nearly all of its memory. Call cnn_tutor.setup() "
                    "before anything uses TensorFlow (restart the kernel).",
                    RuntimeWarning,
                    stacklevel=3,
                )


def _configure_cpu_devices(tf, count):
    """Split the CPU into ``count`` logical devices; TensorFlow must not have initialised its devices yet."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        # Too late to change; fine if an earlier setup() already made the same split.
        current = len(tf.config.list_logical_devices("CPU"))
        if current != count:
            raise RuntimeError(
                f"`cpu_devices={count}` must be set before TensorFlow initialises its devices, but this "
                f"process has already initialised them with {current} logical CPU device(s). Restart the "
                f"kernel (or the interpreter) and call cnn_tutor.setup(cpu_devices={count}) before anything "
                "else uses TensorFlow."
            ) from None


def import_tensorflow_quietly(cpu_devices=None):
    """Import TensorFlow and run one op with fd 2 silenced; return the module.

    Before that first op initialises the devices, memory growth is turned on
    for every GPU (with a warning where that is too late) and
    ``cpu_devices`` splits the CPU into that many logical devices.
    """
    with quiet_stderr():
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        try:
            import absl.logging

            absl.logging.set_verbosity(absl.logging.ERROR)
        except ImportError:  # absl is a TensorFlow dependency; be safe anyway
            pass
        if cpu_devices is not None:
            _configure_cpu_devices(tf, cpu_devices)
        # Memory growth must be set before the first op initialises the GPUs;
        # otherwise TensorFlow reserves nearly all of each GPU's memory.
        enable_memory_growth(tf, tf.config.list_physical_devices("GPU"))
        # The first op initialises the runtime (oneDNN, CUDA), which logs too.
        tf.reduce_sum(tf.ones((2, 2))).numpy()
    return tf


def gpu_names(backend):
    """Names of the GPUs the backend computes on (imports the backend)."""
    if backend == "tensorflow":
        tf = import_tensorflow_quietly()
        return tensorflow_gpu_names(tf, tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        return jax_gpus()
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def prepare_jax(deterministic):
    """Before JAX initialises: ask XLA for deterministic GPU kernels (no effect on a CPU)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if deterministic and JAX_DETERMINISM_FLAG not in flags:
        if "jax" in sys.modules and nvidia_gpu_present():
            warnings.warn(
                "JAX was imported before cnn_tutor.setup(deterministic=True), so XLA may already have read "
                f"XLA_FLAGS without {JAX_DETERMINISM_FLAG}: GPU results may vary from run to run. Call setup() "
                "first (restart the kernel).",
                RuntimeWarning,
                stacklevel=4,
            )
        os.environ["XLA_FLAGS"] = f"{flags} {JAX_DETERMINISM_FLAG}".strip()


def start_backend(backend, *, cpu_devices=None, deterministic=True):
    """Start the Keras backend quietly and return the names of its GPUs; warn if an NVIDIA GPU goes unseen.

    TensorFlow is imported with its start-up lines silenced, its CPU split
    into ``cpu_devices`` logical devices and memory growth on; JAX gets the
    determinism flag first.  Keras itself is imported here, silenced too.
    """
    if backend == "tensorflow":
        tf = import_tensorflow_quietly(cpu_devices)
        names = tensorflow_gpu_names(tf, tf.config.list_physical_devices("GPU"))
    elif backend == "jax":
        prepare_jax(deterministic)
    with quiet_stderr():
        import keras  # noqa: F401  (the backend starts here)
    if backend != "tensorflow":
        names = gpu_names(backend)
    message = gpu_visibility_warning(nvidia_gpu_present(), names, backend)
    if message:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    return names


def set_determinism(backend, deterministic):
    """Deterministic kernels on or off (TensorFlow's op determinism; PyTorch's deterministic algorithms)."""
    if backend == "tensorflow":
        from tensorflow.python.framework import config  # the switch back off has no public name

        if deterministic:
            config.enable_op_determinism()
        else:
            config.disable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(deterministic, warn_only=True)


def device_description():
    """A short description of the device Keras computes on, as in the banner.

    It names the GPUs the Keras backend sees, or the CPU, and the host's
    logical CPUs (this process's affinity) and CPU model.

    Examples
    --------
    >>> device_description().startswith(("CPU", "GPU", "2 x GPU", "GPUs"))
    True
    """
    return describe(gpu_names(_backend.name()))


def enable_inline_figures():
    """In a Jupyter kernel, display matplotlib Figures returned by a cell as PNG images."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        shell.run_line_magic("matplotlib", "inline")
