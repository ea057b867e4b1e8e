"""Wall-clock timing that is fair on a shared CPU and correct on a GPU.

One implementation for every timing in the book:

- :class:`Timer`, a context manager around ``time.perf_counter``;
- :func:`compare_timings`, which times several functions on the same
  arguments *in turns* (one call of each per round), so a load that drifts
  over seconds (other programs on the machine) is spread over all of them,
  and reports the median and the spread of each (:class:`Timing`).

On an accelerator the backends return before their kernels have finished.
A timed call therefore ends with :func:`synchronize`, which waits for the
device (``tf.test.experimental.sync_devices``, ``jax.block_until_ready``,
``torch.cuda.synchronize``) instead of copying the results back to the host:
a copy would add the transfer time to the kernel time.  For the same reason
:func:`compare_timings` moves NumPy arguments to the device once, before the
first call (:func:`to_device`), so no call pays for an upload.

Used by the Convolution math, Keras models, Generation, Reconstruction and
Future directions chapters.
"""

import statistics
import time
import typing

import numpy as np

from cnn_tutor import _validation

__all__ = ["Timer", "Timing", "compare_timings", "synchronize", "to_device"]


class Timer:
    """Measure wall-clock time with ``time.perf_counter``.

    ``seconds`` is ``None`` inside the block and the elapsed time after it.
    To time work on an accelerator, call :func:`synchronize` on the last
    result inside the block, so the device has finished when the clock stops.

    Examples
    --------
    >>> import time
    >>> with Timer() as timer:
    ...     time.sleep(0.01)
    >>> 0.01 <= timer.seconds < 1.0
    True
    """

    def __init__(self):
        self.seconds = None
        self._start = None

    def __enter__(self):
        self.seconds = None
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.seconds = time.perf_counter() - self._start
        return False


class Timing(typing.NamedTuple):
    """The times of one function in :func:`compare_timings` (seconds)."""

    #: Median of the timed calls.
    median: float
    #: Every timed call, in order.
    times: tuple

    @property
    def spread(self):
        """Interquartile range of the times (75th minus 25th percentile), in seconds."""
        q25, q75 = np.percentile(self.times, [25, 75])
        return float(q75 - q25)

    @property
    def relative_spread(self):
        """:attr:`spread` divided by :attr:`median` (0.1: the middle half of the calls lie within 10%)."""
        return self.spread / self.median if self.median > 0 else float("nan")


def _module_of(value):
    return type(value).__module__.split(".")[0]


def synchronize(result):
    """Wait until the computation that produced ``result`` has finished on its device; return ``result``.

    TensorFlow, JAX and PyTorch launch GPU kernels asynchronously: a call
    returns while its kernels still run.  This waits for them without
    copying the values back to the host (which would time the transfer
    too): ``jax.block_until_ready`` for JAX arrays,
    ``tf.test.experimental.sync_devices()`` for TensorFlow tensors,
    ``torch.cuda.synchronize()`` for CUDA tensors.  NumPy arrays and Python
    values are already complete.

    Parameters
    ----------
    result : object
        A tensor, an array, or a nested structure (list, tuple, dict) of them.

    Returns
    -------
    object
        ``result``, unchanged.

    Examples
    --------
    >>> synchronize({"a": np.ones(3), "b": [1.0, 2.0]})["b"]
    [1.0, 2.0]
    """
    leaves = []

    def collect(value):
        if isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item)
        else:
            leaves.append(value)

    collect(result)
    kinds = {_module_of(leaf) for leaf in leaves}
    if kinds & {"jax", "jaxlib"}:
        import jax

        jax.block_until_ready([leaf for leaf in leaves if _module_of(leaf) in ("jax", "jaxlib")])
    if "tensorflow" in kinds:
        import tensorflow as tf

        tf.test.experimental.sync_devices()
    if "torch" in kinds:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    return result


def to_device(value):
    """NumPy arrays in ``value`` as tensors of the Keras backend (on its default device); the rest unchanged.

    Converting once before timing keeps the host-to-device copy out of every
    timed call.

    Examples
    --------
    >>> to_device([3, "text"])
    [3, 'text']
    """
    if isinstance(value, np.ndarray):
        import keras

        return keras.ops.convert_to_tensor(value)
    if isinstance(value, dict):
        return {key: to_device(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(item) for item in value)
    return value


def compare_timings(functions, *args, repeats=10, warmup=1, on_device=True):
    """Time several functions on the same arguments, taking turns: one call of each per round.

    When other programs share the machine, its speed drifts over seconds;
    timing one function after the other would charge the drift to whichever
    ran during a slow spell.  Taking turns spreads it over all of them, so
    their ratios are fairer.  Each function gets ``warmup`` untimed calls
    first (tracing a ``tf.function``, XLA compilation, memory allocation);
    each timed call ends with :func:`synchronize`.

    Parameters
    ----------
    functions : dict of str to callable
        What to time, by name.
    *args
        The arguments of every call.
    repeats : int
        Rounds (>= 1).
    warmup : int
        Untimed calls of each function first (>= 0).
    on_device : bool
        Move NumPy arguments to the Keras backend's device once, before
        timing (:func:`to_device`).  Pass ``False`` to time functions of
        NumPy arrays (a NumPy reference implementation) on NumPy arrays.

    Returns
    -------
    dict of str to Timing
        The median, every time and the spread of each function, in seconds.

    Raises
    ------
    TypeError, ValueError
        If ``functions`` is not a non-empty dict of callables, or ``repeats``
        or ``warmup`` is out of range.

    Examples
    --------
    >>> timings = compare_timings({"short": sum, "long": lambda r: sum(list(r) * 50)}, range(1000), repeats=3)
    >>> sorted(timings), len(timings["long"].times)
    (['long', 'short'], 3)
    """
    if not isinstance(functions, dict) or not functions:
        raise ValueError(f"`functions` must be a non-empty dict of name -> callable; received {functions!r}.")
    for name, function in functions.items():
        if not callable(function):
            raise TypeError(f"`functions[{name!r}]` must be callable; received {type(function).__name__}.")
    repeats = _validation.check_int("repeats", repeats, minimum=1)
    warmup = _validation.check_int("warmup", warmup, minimum=0)
    if not isinstance(on_device, bool):
        raise TypeError(f"`on_device` must be True or False; received {on_device!r}.")
    if on_device:
        args = to_device(args)
    for function in functions.values():
        for _ in range(warmup):
            synchronize(function(*args))
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            synchronize(function(*args))
            times[name].append(time.perf_counter() - start)
    return {name: Timing(median=statistics.median(values), times=tuple(values)) for name, values in times.items()}
