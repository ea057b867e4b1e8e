"""Set-up of a chapter: quiet logs, seeds, determinism, devices, profile, figures.

Every chapter of the book starts with one call::

    import cnn_tutor
    rt = cnn_tutor.setup()

:func:`cnn_tutor.runtime.setup` returns a :class:`Runtime`, which the chapter then asks for its
budgets (``rt.epochs(quick=3, full=30)``) instead of hard-coding them, and
through which it reports the figures it measures (``rt.record(...)``), so the
benchmark command (``make bench``) can collect them.

Profiles
--------
``quick``
    The default on a CPU, and what CI runs: the bundled 5,000-digit MNIST
    subset and small training budgets, so the whole book runs in minutes.
``full``
    The default when a GPU is visible: the real MNIST (70,000 digits) and the
    budgets that reach the published figures.

``CNN_TUTOR_PROFILE=quick`` or ``=full`` in the environment overrides the
choice; so does ``setup(profile=...)``.

Used by every chapter.
"""

import contextlib
import dataclasses
import json
import os
import platform
import random
import sys
import time
import warnings

import numpy as np

from cnn_tutor import _validation, report

__all__ = [
    "PROFILES",
    "Figure",
    "Runtime",
    "Timer",
    "current_profile",
    "device_description",
    "quiet_stderr",
    "resolve_profile",
    "setup",
]

#: The valid profile names.
PROFILES = ("quick", "full")

#: Environment variable that overrides the profile.
PROFILE_ENV = "CNN_TUTOR_PROFILE"
#: Environment variable naming a JSON-lines file that :meth:`Runtime.record` appends to.
RECORD_ENV = "CNN_TUTOR_RECORD"
#: Environment variable naming the chapter being run (set by the benchmark).
CHAPTER_ENV = "CNN_TUTOR_CHAPTER"

_current = None


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


def resolve_profile(profile=None, *, gpu_available=False):
    """Return the profile name to use.

    The order is: the ``profile`` argument, then the ``CNN_TUTOR_PROFILE``
    environment variable, then ``"full"`` if a GPU is available, else
    ``"quick"``.

    Parameters
    ----------
    profile : {"quick", "full"} or None
        An explicit choice.
    gpu_available : bool
        Whether TensorFlow sees a GPU.

    Returns
    -------
    str
        ``"quick"`` or ``"full"``.

    Raises
    ------
    ValueError
        If the name (from the argument or the environment) is not a profile.

    Examples
    --------
    >>> resolve_profile("full")
    'full'
    >>> resolve_profile("fast")
    Traceback (most recent call last):
    ...
    ValueError: `profile` must be one of 'quick', 'full'; received 'fast'.
    """
    if profile is not None:
        return _validation.check_choice("profile", profile, PROFILES)
    from_env = os.environ.get(PROFILE_ENV, "").strip()
    if from_env:
        return _validation.check_choice(f"the environment variable {PROFILE_ENV}", from_env, PROFILES)
    return "full" if gpu_available else "quick"


def current_profile():
    """The profile of the last :func:`setup`, or what :func:`resolve_profile` gives without a GPU.

    Functions such as :func:`cnn_tutor.data.load_mnist` use it when they are
    not told a profile, so a chapter needs to say it only once.

    Examples
    --------
    >>> current_profile() in PROFILES
    True
    """
    if _current is not None:
        return _current.profile
    return resolve_profile(None, gpu_available=False)


@dataclasses.dataclass(frozen=True)
class Figure:
    """One measured figure of a chapter, as recorded by :meth:`Runtime.record`."""

    name: str
    value: float
    unit: str
    target: str | None
    met: bool | None
    profile: str
    device: str
    chapter: str | None
    versions: dict

    def as_dict(self):
        """The figure as a JSON-ready dictionary."""
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Runtime:
    """What :func:`cnn_tutor.setup` found and chose; ask it for budgets and give it figures.

    Attributes
    ----------
    profile : str
        ``"quick"`` or ``"full"``.
    seed : int
        The seed given to Python, NumPy, TensorFlow and Keras.
    device : str
        A short description of the device TensorFlow computes on.
    gpus : tuple of str
        The names of the visible GPUs (empty on a CPU).
    versions : dict
        Python, TensorFlow, Keras and NumPy versions.
    records : list of Figure
        The figures recorded so far in this session.
    """

    profile: str
    seed: int
    device: str
    gpus: tuple
    versions: dict
    records: list = dataclasses.field(default_factory=list)

    @property
    def banner(self):
        """The one-line summary printed by :func:`setup`."""
        return (
            f"cnn_tutor | profile: {self.profile} | device: {self.device} | "
            f"TensorFlow {self.versions['tensorflow']} | Keras {self.versions['keras']} | seed: {self.seed}"
        )

    def budget(self, *, quick, full):
        """Return ``quick`` or ``full`` depending on the profile.

        Use it for any budget that differs between the profiles (number of
        samples, steps, image size...); :meth:`epochs` is the common case.

        Examples
        --------
        >>> rt = Runtime(profile="quick", seed=0, device="CPU", gpus=(), versions={})
        >>> rt.budget(quick=1_000, full=60_000)
        1000
        """
        return quick if self.profile == "quick" else full

    def epochs(self, *, quick, full):
        """Return the number of training epochs for the profile.

        Raises
        ------
        TypeError, ValueError
            If either budget is not an integer >= 1.

        Examples
        --------
        >>> rt = Runtime(profile="full", seed=0, device="GPU", gpus=("GPU",), versions={})
        >>> rt.epochs(quick=3, full=30)
        30
        >>> rt.epochs(quick=0, full=30)
        Traceback (most recent call last):
        ...
        ValueError: `quick` must be >= 1; received 0.
        """
        quick = _validation.check_int("quick", quick, minimum=1)
        full = _validation.check_int("full", full, minimum=1)
        return self.budget(quick=quick, full=full)

    def record(self, name, value, *, unit="", at_least=None, at_most=None, fmt=".3f", tolerance=None):
        """Print a measured figure, check it against its target, and keep it.

        The printed line ends with ``met`` or ``MISSED`` when there is a
        target, so a regression changes the cell's output and fails the
        notebook regression test (nbval).  A figure that drifts across
        machines (one that comes from training or from long floating-point
        sums) declares a ``tolerance``: the notebook test then compares its
        value within the tolerance and the rest of the line, verdict
        included, exactly (see :mod:`cnn_tutor.report`).  When the
        environment variable ``CNN_TUTOR_RECORD`` names a file (the benchmark
        sets it), the figure is appended to it as one JSON line.

        It returns nothing, so it can end a cell without ``_ =``; the
        figures are kept in ``rt.records``.

        Parameters
        ----------
        name : str
            What was measured, for example ``"classifier test accuracy"``.
        value : float
            The measured value.
        unit : str
            Its unit (``"s"``, ``"dB"``, ``""`` for a ratio...).
        at_least, at_most : float, optional
            The target, if there is one (at most one of the two).
        fmt : str
            Format specification for the printed value.
        tolerance : float, optional
            The largest difference from the committed value, in the value's
            units, that the notebook test accepts (``>= 0``).  ``None``: the
            printed value is compared exactly.

        Examples
        --------
        >>> rt = Runtime(profile="quick", seed=0, device="CPU", gpus=(), versions={})
        >>> rt.record("test accuracy", 0.9612, at_least=0.95, tolerance=0.005)
        test accuracy: 0.961 (target >= 0.95: met)
        >>> rt.records[-1].met
        True
        >>> rt.record("time", 12.5, unit="s", at_most=10, fmt=".1f")
        time: 12.5 s (target <= 10 s: MISSED)
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"`name` must be a non-empty string; received {name!r}.")
        value = _validation.check_float("value", value)
        if at_least is not None and at_most is not None:
            raise ValueError("Give at most one of `at_least` and `at_most`; received both.")
        if not isinstance(unit, str):
            raise TypeError(f"`unit` must be a string; received {unit!r} of type {type(unit).__name__}.")
        if not isinstance(fmt, str):
            raise TypeError(f"`fmt` must be a format specification such as '.3f'; received {fmt!r}.")
        try:
            value_text = format(value, fmt)
        except ValueError:
            raise ValueError(f"`fmt` must be a format specification for a float, such as '.3f'; received {fmt!r}.") from None
        if tolerance is not None:
            tolerance = _validation.check_float("tolerance", tolerance, minimum=0.0)
        target, met = None, None
        if at_least is not None:
            at_least = _validation.check_float("at_least", at_least)
            target, met = f">= {at_least:g}", value >= at_least
        elif at_most is not None:
            at_most = _validation.check_float("at_most", at_most)
            target, met = f"<= {at_most:g}", value <= at_most
        unit_text = f" {unit}" if unit else ""
        suffix = unit_text
        if target is not None:
            suffix += f" (target {target}{unit_text}: {'met' if met else 'MISSED'})"
        if tolerance is None:
            print(f"{name}: {value_text}{suffix}")
        else:
            line = report._Text()  # the same text, with the value marked as drifting (see cnn_tutor.report)
            line.add(f"{name}: ")
            line.add_number(value_text, report.approx(value, tolerance), name)
            line.add(suffix)
            report._emit(line)
        figure = Figure(
            name=name,
            value=value,
            unit=unit,
            target=target,
            met=met,
            profile=self.profile,
            device=self.device,
            chapter=os.environ.get(CHAPTER_ENV) or None,
            versions=dict(self.versions),
        )
        self.records.append(figure)
        path = os.environ.get(RECORD_ENV)
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(figure.as_dict()) + "\n")


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


def _import_tensorflow_quietly(cpu_devices=None):
    """Import TensorFlow and run one op with fd 2 silenced; return the module.

    Before that first op initialises the devices, memory growth is turned on
    for every GPU and ``cpu_devices`` splits the CPU into that many logical
    devices.
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
        for gpu in tf.config.list_physical_devices("GPU"):
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:
                # Already initialised (an earlier setup() in this process):
                # the setting is then fixed, which is fine.
                pass
        # The first op initialises the runtime (oneDNN, CUDA), which logs too.
        tf.reduce_sum(tf.ones((2, 2))).numpy()
    return tf


def _enable_inline_figures():
    """In a Jupyter kernel, display matplotlib Figures returned by a cell as PNG images."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        shell.run_line_magic("matplotlib", "inline")


def _describe_device(tf, gpus):
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        if len(set(names)) == 1:
            return f"{len(names)} x GPU {names[0]}" if len(names) > 1 else f"GPU {names[0]}"
        return "GPUs " + ", ".join(names)
    return f"CPU ({os.cpu_count()} cores)"


def device_description():
    """A short description of the device TensorFlow computes on, as in the banner.

    Examples
    --------
    >>> device_description().startswith(("CPU", "GPU", "2 x GPU", "GPUs"))
    True
    """
    tf = _import_tensorflow_quietly()
    return _describe_device(tf, tf.config.list_physical_devices("GPU"))


def setup(profile=None, *, seed=0, verbose=True, cpu_devices=None):
    """Set up a chapter and return its :class:`Runtime`.

    1. silences TensorFlow's start-up log lines (they never reach a
       notebook's outputs);
    2. seeds Python, NumPy, TensorFlow and Keras with ``seed`` and turns on
       TensorFlow's op determinism, so a chapter gives the same numbers when
       run again on the same machine;
    3. finds the GPUs and turns on memory growth for each;
    4. picks the profile (see :func:`resolve_profile`) and prints a one-line
       banner;
    5. in a Jupyter kernel, displays the matplotlib figures that cells return;
    6. with ``cpu_devices=n``, splits the CPU into ``n`` logical devices, so
       data-parallel training (:mod:`cnn_tutor.distribute`) can run for real
       on a machine without GPUs.

    Call it before importing ``tensorflow`` or ``keras``: TensorFlow prints
    its start-up lines while it is imported, and only a set-up that comes
    first can keep them out of the notebook (a warning says so otherwise).

    Parameters
    ----------
    profile : {"quick", "full"} or None
        Force a profile; by default ``CNN_TUTOR_PROFILE`` or the device decides.
    seed : int
        The seed for every random number generator.
    verbose : bool
        Print the banner.
    cpu_devices : int, optional
        Split the CPU into this many logical devices (``>= 1``).  They share
        the same cores: the split lets ``tf.distribute`` run with several
        replicas, it does not add compute.  TensorFlow fixes its devices when
        it first uses them, so this works only in a process where nothing has
        used TensorFlow yet (or an earlier ``setup`` made the same split).

    Returns
    -------
    Runtime

    Raises
    ------
    ValueError
        If the profile (argument or environment) is unknown, ``seed`` < 0 or
        ``cpu_devices`` < 1.
    RuntimeError
        If ``cpu_devices`` asks for a split after TensorFlow has initialised
        its devices differently (restart the kernel).
    """
    global _current
    # Check the arguments before the slow TensorFlow import.
    if profile is not None:
        resolve_profile(profile)
    else:
        resolve_profile(None)  # validates CNN_TUTOR_PROFILE if it is set
    seed = _validation.check_int("seed", seed, minimum=0)
    if cpu_devices is not None:
        cpu_devices = _validation.check_int("cpu_devices", cpu_devices, minimum=1)

    if "tensorflow" in sys.modules and _current is None:
        warnings.warn(
            "TensorFlow was imported before cnn_tutor.setup(), so its start-up log lines may already "
            "have been printed. Call `import cnn_tutor; rt = cnn_tutor.setup()` before importing "
            "tensorflow or keras.",
            stacklevel=2,
        )
    tf = _import_tensorflow_quietly(cpu_devices)
    import keras

    gpus = tf.config.list_physical_devices("GPU")
    chosen = resolve_profile(profile, gpu_available=bool(gpus))

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow seeds
    tf.config.experimental.enable_op_determinism()

    runtime = Runtime(
        profile=chosen,
        seed=seed,
        device=device_description(),
        gpus=tuple(gpu.name for gpu in gpus),
        versions={
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
    )
    _current = runtime
    _enable_inline_figures()
    if verbose:
        print(runtime.banner)
    return runtime


class Timer:
    """Measure wall-clock time with ``time.perf_counter``.

    Examples
    --------
    >>> with Timer() as timer:
    ...     _ = sum(range(1000))
    >>> timer.seconds >= 0
    True
    """

    def __enter__(self):
        self.seconds = None
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.seconds = time.perf_counter() - self._start
        return False

