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

The set-up works on every Keras backend (``KERAS_BACKEND``; TensorFlow is the
book's default) and names it in the banner and in ``Runtime.versions``,
which every recorded figure carries.

Used by every chapter.
"""

import dataclasses
import os
import random
import sys
import warnings

import numpy as np

from cnn_tutor import _backend, _devices, _figures, _validation
from cnn_tutor._devices import bfloat16_flags, cpu_flags, device_description, quiet_stderr
from cnn_tutor._figures import CHAPTER_ENV, RECORD_ENV, Figure  # the environment variables: for the benchmark

__all__ = [
    "PROFILES",
    "Figure",
    "Runtime",
    "bfloat16_flags",
    "cpu_flags",
    "current_profile",
    "current_seed",
    "device_description",
    "quiet_stderr",
    "resolve_profile",
    "resolve_seed",
    "setup",
]

#: The valid profile names.
PROFILES = ("quick", "full")

#: Environment variable that overrides the profile.
PROFILE_ENV = "CNN_TUTOR_PROFILE"

_current = None


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


def current_seed():
    """The seed of the last :func:`setup`, or 0 if it was not called.

    Every function of the package that takes ``seed=None`` uses it, so a
    chapter gives its seed once, to ``setup``, instead of passing
    ``seed=rt.seed`` to every call.

    Examples
    --------
    >>> isinstance(current_seed(), int)
    True
    """
    return 0 if _current is None else _current.seed


def resolve_seed(seed):
    """``seed`` checked as an int >= 0, or :func:`current_seed` for ``None``.

    Examples
    --------
    >>> resolve_seed(5)
    5
    >>> resolve_seed(None) == current_seed()
    True
    """
    if seed is None:
        return current_seed()
    return _validation.check_int("seed", seed, minimum=0)



@dataclasses.dataclass
class Runtime:
    """What :func:`cnn_tutor.setup` found and chose; ask it for budgets and give it figures.

    Attributes
    ----------
    profile : str
        ``"quick"`` or ``"full"``.
    seed : int
        The seed given to Python, NumPy, the backend and Keras; functions of
        the package called with ``seed=None`` use it (:func:`current_seed`).
    device : str
        A short description of the device Keras computes on, with the host's
        logical CPUs and CPU model.
    gpus : tuple of str
        The names of the visible GPUs (empty on a CPU).
    versions : dict
        Python, Keras backend, Keras, TensorFlow, JAX, PyTorch and NumPy
        versions (``None`` for a library that is not installed); every
        recorded figure carries them, so it says which backend produced it.
    records : list of Figure
        The figures recorded so far in this session.
    backend : str
        The Keras backend (``"tensorflow"``, ``"jax"``...).
    logical_cpus : int or None
        Logical CPUs this process may run on (its affinity, not the machine's
        count: a container or ``taskset`` may allow fewer).
    cpu_model : str or None
        The CPU model from ``/proc/cpuinfo`` (``None`` where it is not known).
    deterministic : bool
        Whether :func:`setup` turned on deterministic kernels.
    """

    profile: str
    seed: int
    device: str
    gpus: tuple
    versions: dict
    records: list = dataclasses.field(default_factory=list)
    backend: str = "tensorflow"
    logical_cpus: int | None = None
    cpu_model: str | None = None
    deterministic: bool = True

    @property
    def banner(self):
        """The one-line summary printed by :func:`setup`: profile, device, backend, versions, seed.

        Examples
        --------
        >>> rt = Runtime(profile="quick", seed=0, device="CPU, 2 logical CPUs", gpus=(), backend="jax",
        ...              versions={"jax": "0.4.30", "keras": "3.5.0"})
        >>> rt.banner
        'cnn_tutor | profile: quick | device: CPU, 2 logical CPUs | backend: jax | JAX 0.4.30 | Keras 3.5.0 | seed: 0'
        """
        library = _backend.library_label(self.backend)
        return (
            f"cnn_tutor | profile: {self.profile} | device: {self.device} | backend: {self.backend} | "
            f"{library} {self.versions.get(self.backend)} | Keras {self.versions.get('keras')} | seed: {self.seed}"
            + ("" if self.deterministic else " | deterministic: off")
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
        _figures.record(
            self, name, value, unit=unit, at_least=at_least, at_most=at_most, fmt=fmt, tolerance=tolerance
        )




# --- the set-up -------------------------------------------------------------------------------


def setup(profile=None, *, seed=0, deterministic=True, verbose=True, cpu_devices=None):
    """Set up a chapter and return its :class:`Runtime`.

    1. silences TensorFlow's start-up log lines (they never reach a
       notebook's outputs);
    2. seeds Python, NumPy, the backend and Keras with ``seed``
       (``keras.utils.set_random_seed``); functions of the package called
       with ``seed=None`` use this seed too (:func:`current_seed`);
    3. with ``deterministic=True`` (the default) turns on deterministic
       kernels, so a chapter gives the same numbers when run again on the same
       machine (see below);
    4. finds the GPUs of the Keras backend and, on TensorFlow, turns on memory
       growth for each; warns when an NVIDIA GPU is installed but the backend
       sees none (a broken CUDA set-up would otherwise run on the CPU
       silently);
    5. picks the profile (see :func:`resolve_profile`) and prints a one-line
       banner: profile, device (GPUs, logical CPUs of this process, CPU
       model), backend and library versions, seed;
    6. in a Jupyter kernel, displays the matplotlib figures that cells return;
    7. with ``cpu_devices=n`` (TensorFlow), splits the CPU into ``n`` logical
       devices for data-parallel training (:mod:`cnn_tutor.distribute`).

    Call it before importing ``tensorflow`` or ``keras``: TensorFlow prints
    its start-up lines while it is imported, and only a set-up that comes
    first can keep them out of the notebook (a warning says so otherwise).

    What ``deterministic`` changes: on TensorFlow,
    ``tf.config.experimental.enable_op_determinism()`` (every op picks a
    deterministic kernel: on a GPU some are slower and ops without one raise
    an error; Keras's ``jit_compile=True`` then falls back to no XLA);
    ``False`` turns it off again.  On JAX, the XLA flag
    ``--xla_gpu_deterministic_ops=true`` (read when JAX first initialises, so
    call ``setup`` first; JAX on a CPU is deterministic anyway).  Seeding
    happens either way.

    Parameters
    ----------
    profile : {"quick", "full"} or None
        Force a profile; by default ``CNN_TUTOR_PROFILE`` or the device decides.
    seed : int
        The seed for every random number generator.
    deterministic : bool
        Deterministic kernels (see above); ``False`` trades reproducibility
        for speed (and allows XLA in ``compile(jit_compile=True)``).
    verbose : bool
        Print the banner.
    cpu_devices : int, optional
        Split the CPU into this many logical devices (``>= 1``, TensorFlow
        backend only).  They share the same cores: the split lets
        ``tf.distribute`` run with several replicas, it does not add compute.
        TensorFlow fixes its devices when it first uses them, so this works
        only in a process where nothing has used TensorFlow yet (or an
        earlier ``setup`` made the same split).

    Returns
    -------
    Runtime

    Raises
    ------
    ValueError
        If the profile (argument or environment) is unknown, ``seed`` < 0,
        ``cpu_devices`` < 1, or ``cpu_devices`` is given under a backend other
        than TensorFlow.
    TypeError
        If ``deterministic`` is not a bool.
    RuntimeError
        If ``cpu_devices`` asks for a split after TensorFlow has initialised
        its devices differently (restart the kernel).
    """
    global _current
    # Check the arguments before the slow imports.
    if profile is not None:
        resolve_profile(profile)
    else:
        resolve_profile(None)  # validates CNN_TUTOR_PROFILE if it is set
    seed = _validation.check_int("seed", seed, minimum=0)
    if not isinstance(deterministic, bool):
        raise TypeError(f"`deterministic` must be True or False; received {deterministic!r}.")
    backend = _backend.name()
    if cpu_devices is not None:
        cpu_devices = _validation.check_int("cpu_devices", cpu_devices, minimum=1)
        if backend != "tensorflow":
            raise ValueError(
                f"`cpu_devices` splits the CPU for tf.distribute, a TensorFlow lesson; received cpu_devices="
                f"{cpu_devices} under the {backend!r} backend. Run with KERAS_BACKEND=tensorflow, or leave it out."
            )

    if backend == "tensorflow" and "tensorflow" in sys.modules and _current is None:
        warnings.warn(
            "TensorFlow was imported before cnn_tutor.setup(), so its start-up log lines may already "
            "have been printed. Call `import cnn_tutor; rt = cnn_tutor.setup()` before importing "
            "tensorflow or keras.",
            stacklevel=2,
        )
    gpu_names = _devices.start_backend(backend, cpu_devices=cpu_devices, deterministic=deterministic)
    import keras

    chosen = resolve_profile(profile, gpu_available=bool(gpu_names))

    random.seed(seed)
    np.random.seed(seed)
    with quiet_stderr():  # Keras seeds TensorFlow wherever it is installed, importing it under any backend
        keras.utils.set_random_seed(seed)  # Python, NumPy, the backend and Keras's own generator
    _devices.set_determinism(backend, deterministic)

    runtime = Runtime(
        profile=chosen,
        seed=seed,
        device=_devices.describe(gpu_names),
        gpus=tuple(gpu_names),
        versions=_backend.versions(),
        backend=backend,
        logical_cpus=_devices.logical_cpus(),
        cpu_model=_devices.cpu_model(),
        deterministic=deterministic,
    )
    _current = runtime
    _devices.enable_inline_figures()
    if verbose:
        print(runtime.banner)
    return runtime
