"""The benchmark command: execute every chapter, time it, collect the figures it records.

Private: the public names are re-exported by :mod:`cnn_tutor.bench`, and
``python -m cnn_tutor.bench`` runs :func:`main`.
"""

import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

from cnn_tutor import _validation, runtime
from cnn_tutor.bench._facts import _git_state, environment_facts
from cnn_tutor.bench._results import _FIGURE_KEYS, _merge, _now, results_path


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
