"""The results files: where they live, their format, and how a run updates them.

Private: the public names are re-exported by :mod:`cnn_tutor.bench`, whose
docstring gives the format.
"""

import collections
import datetime
import json
import pathlib

from cnn_tutor import _validation, runtime


#: The format identifier written into every results file.
SCHEMA = "cnn-tutor-bench/1"

#: Where the results files live, relative to the book's root.
RESULTS_DIR = pathlib.Path("book") / "_results"

_STATUSES = ("ran", "failed", "projected")
_FIGURE_KEYS = ("name", "value", "unit", "target", "met")
_CHAPTER_KEYS = (
    "chapter", "title", "status", "started", "commit", "dirty", "profile", "wall_s", "time_target_s",
    "time_met", "device", "device_kind", "backend", "cpu_model", "logical_cpus", "versions", "figures",
    "error", "projection",
)
_PROJECTION_KEYS = ("reason", "epoch_seconds", "epochs", "fixed_seconds", "projected_s", "measured_with")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def results_path(book_root, profile, device_key):
    """``<book_root>/book/_results/<profile>-<device_key>.json``.

    Examples
    --------
    >>> results_path(".", "full", "gpu").as_posix()
    'book/_results/full-gpu.json'
    """
    _validation.check_choice("profile", profile, runtime.PROFILES)
    _validation.check_choice("device_key", device_key, ("cpu", "gpu"))
    return pathlib.Path(book_root) / RESULTS_DIR / f"{profile}-{device_key}.json"


def _fail(path, problem):
    raise ValueError(f"{path} is not a results file of `python -m cnn_tutor.bench` ({SCHEMA}): {problem}.")


def load_results(path):
    """Read a results file and check its format; return it as a dict.

    Raises
    ------
    ValueError
        If the file is not valid JSON or does not follow the format of the
        module docstring; the message names the file and the first problem.
    """
    path = pathlib.Path(path)
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        _fail(path, f"invalid JSON ({exc})")
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        _fail(path, f"its `schema` must be {SCHEMA!r}")
    if results.get("profile") not in runtime.PROFILES or results.get("device_key") not in ("cpu", "gpu"):
        _fail(path, "`profile` must be 'quick' or 'full' and `device_key` 'cpu' or 'gpu'")
    if not isinstance(results.get("chapters"), list):
        _fail(path, "`chapters` must be a list")
    for entry in results["chapters"]:
        name = entry.get("chapter") if isinstance(entry, dict) else entry
        if not isinstance(entry, dict) or set(entry) != set(_CHAPTER_KEYS):
            _fail(path, f"chapter {name!r} must have exactly the keys {', '.join(_CHAPTER_KEYS)}")
        if entry["status"] not in _STATUSES:
            _fail(path, f"chapter {name!r} has status {entry['status']!r}; expected one of {_STATUSES}")
        if entry["status"] == "ran" and not isinstance(entry["wall_s"], (int, float)):
            _fail(path, f"chapter {name!r} ran but has no `wall_s`")
        if (entry["status"] == "projected") != isinstance(entry["projection"], dict):
            _fail(path, f"chapter {name!r}: a `projection` goes with status 'projected', and only there")
        if entry["projection"] is not None and set(entry["projection"]) != set(_PROJECTION_KEYS):
            _fail(path, f"chapter {name!r}: a projection has exactly the keys {', '.join(_PROJECTION_KEYS)}")
        for figure in entry["figures"]:
            if not isinstance(figure, dict) or set(figure) != set(_FIGURE_KEYS):
                _fail(path, f"chapter {name!r}: each figure has exactly the keys {', '.join(_FIGURE_KEYS)}")
    return results


def _merge(path, profile, device_key, entries, *, fresh, note, order):
    """Write ``entries`` into the results file, replacing the same chapters; return the merged dict."""
    previous = []
    if path.exists() and not fresh:
        old = load_results(path)
        if (old["profile"], old["device_key"]) != (profile, device_key):
            _fail(path, f"it holds {old['profile']}-{old['device_key']} results, not {profile}-{device_key}")
        previous = old["chapters"]
        note = old.get("note") if note is None else note
    by_name = collections.OrderedDict((entry["chapter"], entry) for entry in previous)
    by_name.update((entry["chapter"], entry) for entry in entries)
    rank = {name: i for i, name in enumerate(order)}
    merged = sorted(by_name.values(), key=lambda entry: rank.get(entry["chapter"], len(rank)))
    results = {"schema": SCHEMA, "profile": profile, "device_key": device_key, "updated": _now(),
               "note": note, "chapters": merged}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    load_results(path)  # what was written must read back
    return results
