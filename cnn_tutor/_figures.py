"""Recorded figures: one measured value checked against its target, printed, kept, and appended to a file.

Private: :meth:`cnn_tutor.runtime.Runtime.record` is the public way in, and
:mod:`cnn_tutor.runtime` re-exports :class:`Figure` and the environment
variables.  The benchmark (:mod:`cnn_tutor.bench`) reads the file.
"""

import dataclasses
import json
import os

from cnn_tutor import _validation, report

#: Environment variable naming a JSON-lines file that :meth:`~cnn_tutor.runtime.Runtime.record` appends to.
RECORD_ENV = "CNN_TUTOR_RECORD"
#: Environment variable naming the chapter being run (set by the benchmark).
CHAPTER_ENV = "CNN_TUTOR_CHAPTER"


@dataclasses.dataclass(frozen=True)
class Figure:
    """One measured figure of a chapter, as recorded by :meth:`cnn_tutor.runtime.Runtime.record`."""

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


def record(runtime, name, value, *, unit, at_least, at_most, fmt, tolerance):
    """The body of :meth:`cnn_tutor.runtime.Runtime.record` (see there), for ``runtime``."""
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
        profile=runtime.profile,
        device=runtime.device,
        chapter=os.environ.get(CHAPTER_ENV) or None,
        versions=dict(runtime.versions),
    )
    runtime.records.append(figure)
    path = os.environ.get(RECORD_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(figure.as_dict()) + "\n")
