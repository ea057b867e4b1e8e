"""The benchmark command: execute every chapter, time it, collect the figures it records.

``make bench`` runs ``python -m cnn_tutor.bench``. Each notebook listed in
``_toc.yml`` is executed once in a fresh kernel (the quick profile unless
``--profile`` says otherwise); every figure a chapter reports through
:meth:`cnn_tutor.runtime.Runtime.record` is collected from that same run, not
recomputed.  After the chapter's last cell the kernel is asked what it ran on
(device, Keras backend, library versions, CPU model and logical CPUs), so the
record describes the process that produced the figures.

The records go to one *results file* per profile and device,
``book/_results/<profile>-<device>.json`` (device ``cpu`` or ``gpu``), which
the book's execution statistics page renders at build time.  Running a few
chapters updates their entries and keeps the others, so long runs can be made
one chapter at a time; ``--fresh`` starts the file over.  A chapter whose
budget is too long for the machine gets a *projection* instead
(:func:`record_projection`): measured seconds per epoch, the epochs of the
budget, the projected total and the reason.

The format (``"schema": "cnn-tutor-bench/1"``), checked by :func:`load_results`::

    {"schema", "profile", "device_key", "updated", "note",
     "chapters": [{"chapter", "title", "status": "ran" | "failed" | "projected",
                   "started", "commit", "dirty", "profile",
                   "wall_s", "time_target_s", "time_met",
                   "device", "device_kind", "backend", "cpu_model", "logical_cpus", "versions",
                   "figures": [{"name", "value", "unit", "target", "met"}],
                   "error", "projection"}]}

The command needs ``pyyaml``, ``nbclient`` and ``nbformat`` (``requirements.txt``
installs them; so does ``pip install "cnn-tutor[bench]"``).
"""

import argparse
import collections
import datetime
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from cnn_tutor import _validation, runtime

__all__ = [
    "SCHEMA",
    "chapters",
    "environment_facts",
    "load_results",
    "main",
    "record_projection",
    "results_path",
    "run_chapter",
]

#: The format identifier written into every results file.
SCHEMA = "cnn-tutor-bench/1"

#: Where the results files live, relative to the book's root.
RESULTS_DIR = pathlib.Path("book") / "_results"

#: The distributions whose versions a record lists (those installed).
_DISTRIBUTIONS = (
    "tensorflow", "tensorflow-cpu", "tensorflow-macos", "keras", "jax", "jaxlib", "torch",
    "numpy", "scipy", "scikit-image", "matplotlib",
)

_STATUSES = ("ran", "failed", "projected")
_FIGURE_KEYS = ("name", "value", "unit", "target", "met")
_CHAPTER_KEYS = (
    "chapter", "title", "status", "started", "commit", "dirty", "profile", "wall_s", "time_target_s",
    "time_met", "device", "device_kind", "backend", "cpu_model", "logical_cpus", "versions", "figures",
    "error", "projection",
)
_PROJECTION_KEYS = ("reason", "epoch_seconds", "epochs", "fixed_seconds", "projected_s", "measured_with")
_PROBE_MARK = "__cnn_tutor_bench_facts__ "
_PROBE_CELL = (
    "import json as _bench_json\n"
    "from cnn_tutor import bench as _bench\n"
    f"print({_PROBE_MARK!r} + _bench_json.dumps(_bench.environment_facts()))"
)
_NEEDS = ("yaml", "nbclient", "nbformat")


def chapters(book_root):
    """The notebooks of the book, in the order of its ``_toc.yml``."""
    import yaml

    root = pathlib.Path(book_root)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    entries = [toc["root"]] + [
        item["file"] for part in toc.get("parts", []) for chapter in part.get("chapters", [])
        for item in [chapter, *chapter.get("sections", [])]
    ]
    return [root / f"{entry}.ipynb" for entry in entries if (root / f"{entry}.ipynb").exists()]


# --- what a process runs on ---------------------------------------------------


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


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- running a chapter --------------------------------------------------------


def _title(notebook, fallback):
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def run_chapter(path, *, profile, timeout=900):
    """Execute one notebook in a fresh kernel and return its record (a chapter entry of the results file).

    The chapter runs with ``CNN_TUTOR_PROFILE=profile``; the figures it
    records are read from the file its :meth:`~cnn_tutor.runtime.Runtime.record`
    calls append to, and one extra cell after the last asks the kernel for
    :func:`environment_facts`.  ``wall_s`` is the execution time, kernel
    start included.

    Parameters
    ----------
    path : path-like
        The notebook.
    profile : {"quick", "full"}
        The profile to run it in.
    timeout : float
        Seconds allowed per cell.

    Returns
    -------
    dict
        The chapter's entry, ``status`` ``"ran"`` or ``"failed"`` (with the
        error's last line in ``error`` and the figures recorded before it).
    """
    import nbclient
    import nbformat

    path = pathlib.Path(path)
    notebook = nbformat.read(path, as_version=4)
    target = notebook.metadata.get("cnn_tutor", {}).get("time_target_s")
    notebook.cells.append(nbformat.v4.new_code_cell(_PROBE_CELL))
    commit, dirty = _git_state(path.parent)
    entry = {
        "chapter": path.stem, "title": _title(notebook, path.stem), "status": "ran", "started": _now(),
        "commit": commit, "dirty": dirty, "profile": profile, "wall_s": None, "time_target_s": target,
        "time_met": None, "device": None, "device_kind": None, "backend": None, "cpu_model": None,
        "logical_cpus": None, "versions": {}, "figures": [], "error": None, "projection": None,
    }
    with tempfile.TemporaryDirectory() as scratch:
        record_file = pathlib.Path(scratch) / "figures.jsonl"
        keys = (runtime.PROFILE_ENV, runtime.RECORD_ENV, runtime.CHAPTER_ENV)
        saved = {key: os.environ.get(key) for key in keys}
        os.environ.update({runtime.PROFILE_ENV: profile, runtime.RECORD_ENV: str(record_file),
                           runtime.CHAPTER_ENV: path.stem})
        start = time.perf_counter()
        try:
            client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                             resources={"metadata": {"path": str(path.parent)}})
            client.execute()
        except Exception as exc:  # a failing cell: record it, keep what was measured before it
            message = str(exc).strip().splitlines()
            entry.update(status="failed", error=f"{type(exc).__name__}: {message[-1] if message else ''}")
        finally:
            seconds = time.perf_counter() - start
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        lines = record_file.read_text(encoding="utf-8").splitlines() if record_file.exists() else []
    entry["figures"] = [{key: figure.get(key) for key in _FIGURE_KEYS} for figure in map(json.loads, lines)]
    facts = _probe_output(notebook.cells[-1]) if entry["status"] == "ran" else None
    if facts is None:  # the kernel is gone: what the benchmark's own process sees
        facts = environment_facts() | {"device": None, "device_kind": None, "profile": profile, "backend": None}
    for key in ("device", "device_kind", "backend", "cpu_model", "logical_cpus", "versions"):
        entry[key] = facts[key]
    if entry["status"] == "ran":
        entry["wall_s"] = round(seconds, 2)
        entry["time_met"] = None if target is None else seconds <= target
    return entry


def _probe_output(cell):
    for output in cell.get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(_PROBE_MARK):
                return json.loads(line[len(_PROBE_MARK):])
    return None


# --- the results file ---------------------------------------------------------


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


def record_projection(chapter, *, epoch_seconds, epochs, reason, fixed_seconds=0.0, measured_with,
                      profile="full", book=".", out=None):
    """Record a chapter whose budget is too long to run here: measured time per epoch and the projected total.

    Call it from the script that measured the epochs (after
    :func:`cnn_tutor.setup`, so the device and backend are this process's):
    the projected total is ``fixed_seconds + epochs * mean(epoch_seconds)``,
    and the entry replaces the chapter's in the results file, with status
    ``"projected"`` and the reason.

    Parameters
    ----------
    chapter : str
        The notebook's name without ``.ipynb``.
    epoch_seconds : sequence of float
        Measured seconds of the epochs that were run (at least one).
    epochs : int
        Epochs of the chapter's budget in this profile.
    reason : str
        Why the chapter was projected instead of run.
    fixed_seconds : float
        Measured or estimated time of the rest of the chapter (set-up, scoring).
    measured_with : str
        How the epochs were measured (the script or command), for the record.
    profile : {"quick", "full"}
        The profile whose budget this is.
    book : path-like
        The book's root (where ``_toc.yml`` is).
    out : path-like, optional
        The results file; by default :func:`results_path` for this device.

    Returns
    -------
    dict
        The chapter's entry.

    Raises
    ------
    ValueError, TypeError
        If an argument is malformed.
    """
    if not isinstance(chapter, str) or not chapter:
        raise TypeError(f"`chapter` must be a notebook name such as 'generation'; received {chapter!r}.")
    for name, text in (("reason", reason), ("measured_with", measured_with)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"`{name}` must say it in words (a non-empty string); received {text!r}.")
    if isinstance(epoch_seconds, (str, bytes)) or not hasattr(epoch_seconds, "__len__") or len(epoch_seconds) == 0:
        raise ValueError(
            f"`epoch_seconds` must be a non-empty sequence of measured seconds; received {epoch_seconds!r}."
        )
    seconds = [_validation.check_float(f"epoch_seconds[{i}]", s, minimum=0.0) for i, s in enumerate(epoch_seconds)]
    epochs = _validation.check_int("epochs", epochs, minimum=1)
    fixed_seconds = _validation.check_float("fixed_seconds", fixed_seconds, minimum=0.0)
    _validation.check_choice("profile", profile, runtime.PROFILES)
    facts = environment_facts()
    device_kind = facts["device_kind"] or ("gpu" if shutil.which("nvidia-smi") else "cpu")
    commit, dirty = _git_state(book)
    projected = fixed_seconds + epochs * sum(seconds) / len(seconds)
    entry = {
        "chapter": chapter, "title": chapter, "status": "projected", "started": _now(), "commit": commit,
        "dirty": dirty, "profile": profile, "wall_s": None, "time_target_s": None, "time_met": None,
        "device": facts["device"], "device_kind": device_kind, "backend": facts["backend"],
        "cpu_model": facts["cpu_model"], "logical_cpus": facts["logical_cpus"], "versions": facts["versions"],
        "figures": [], "error": None,
        "projection": {"reason": reason.strip(), "epoch_seconds": [round(s, 3) for s in seconds], "epochs": epochs,
                       "fixed_seconds": round(fixed_seconds, 2), "projected_s": round(projected, 1),
                       "measured_with": measured_with.strip()},
    }
    notebook = pathlib.Path(book) / "book" / f"{chapter}.ipynb"
    if notebook.exists():
        import nbformat

        read = nbformat.read(notebook, as_version=4)
        entry["title"] = _title(read, chapter)
        entry["time_target_s"] = read.metadata.get("cnn_tutor", {}).get("time_target_s")
    path = pathlib.Path(out) if out is not None else results_path(book, profile, device_kind)
    order = [p.stem for p in chapters(book)] if (pathlib.Path(book) / "_toc.yml").exists() else []
    _merge(path, profile, device_kind, [entry], fresh=False, note=None, order=order)
    return entry


# --- the command --------------------------------------------------------------


def _print_table(entries):
    rows = []
    for entry in entries:
        if entry["status"] == "projected":
            time_text = f"~{entry['projection']['projected_s']:.0f} s (projected)"
        elif entry["status"] == "failed":
            time_text = "FAILED"
        else:
            time_text = f"{entry['wall_s']:.1f} s"
        target = "" if entry["time_target_s"] is None else f"<= {entry['time_target_s']:g} s"
        met = {True: "yes", False: "NO", None: ""}[entry["time_met"]]
        rows.append((f"{entry['chapter']}: execution time", time_text, target, met))
        for figure in entry["figures"]:
            value = f"{figure['value']:.4g} {figure['unit']}".strip()
            rows.append((f"  {figure['name']}", value, figure["target"] or "",
                         {True: "yes", False: "NO", None: ""}[figure["met"]]))
    width = max([len(row[0]) for row in rows] + [6])
    print(f"\n{'figure':<{width}}  {'value':>22}  {'target':>12}  met")
    for name, value, target, met in rows:
        print(f"{name:<{width}}  {value:>22}  {target:>12}  {met}")


def main(argv=None):
    """Run the benchmark; return the process exit status (0 unless a chapter failed, 2 if a tool is missing)."""
    parser = argparse.ArgumentParser(prog="python -m cnn_tutor.bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="chapters to run (notebook names without .ipynb); default: all")
    parser.add_argument("--book", default=".", help="the book's root folder (with _toc.yml)")
    parser.add_argument("--profile", default="quick", choices=runtime.PROFILES)
    parser.add_argument("--out", default=None,
                        help="the results file (default: BOOK/book/_results/PROFILE-DEVICE.json)")
    parser.add_argument("--fresh", action="store_true", help="start the results file over instead of updating it")
    parser.add_argument("--note", default=None, help="a note stored in the results file and shown on the page")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    missing = [module for module in _NEEDS if not _importable(module)]
    if missing:
        print(f"The benchmark needs pyyaml, nbclient and nbformat; missing here: {', '.join(missing)}. "
              "Install them with `pip install -r requirements.txt` or `pip install \"cnn-tutor[bench]\"`.",
              file=sys.stderr)
        return 2

    paths = chapters(args.book)
    if args.names:
        known = {path.stem: path for path in paths}
        unknown = sorted(set(args.names) - set(known))
        if unknown:
            parser.error(f"unknown chapter(s) {unknown}; the chapters are {sorted(known)}")
        paths = [known[name] for name in args.names]

    entries = []
    for path in paths:
        print(f"running {path.stem} ({args.profile} profile)...", flush=True)
        entry = run_chapter(path, profile=args.profile, timeout=args.timeout)
        if entry["status"] == "failed":
            print(f"  FAILED: {entry['error']}")
        entries.append(entry)
    _print_table(entries)

    kinds = {entry["device_kind"] for entry in entries if entry["device_kind"]}
    if len(kinds) > 1:
        print(f"the chapters ran on different kinds of device ({sorted(kinds)}); nothing written", file=sys.stderr)
        return 1
    device_key = kinds.pop() if kinds else ("gpu" if shutil.which("nvidia-smi") else "cpu")
    out = pathlib.Path(args.out) if args.out else results_path(args.book, args.profile, device_key)
    order = [path.stem for path in chapters(args.book)]
    results = _merge(out, args.profile, device_key, entries, fresh=args.fresh, note=args.note, order=order)
    total = sum(entry["wall_s"] for entry in entries if entry["wall_s"] is not None)
    print(f"\n{len(entries)} chapter(s), {total:.1f} s, written to {out} "
          f"({len(results['chapters'])} chapter(s) in all)")
    failed = [entry["chapter"] for entry in entries if entry["status"] == "failed"]
    if failed:
        print(f"chapters that failed: {', '.join(failed)}")
        return 1
    return 0


def _importable(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    sys.exit(main())
