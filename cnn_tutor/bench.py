"""The benchmark command: execute every chapter, time it, collect the figures it records.

``make bench`` runs ``python -m cnn_tutor.bench``. Each notebook listed in
``_toc.yml`` is executed once in a fresh kernel (the quick profile unless
``--profile`` says otherwise); every figure a chapter reports through
:meth:`cnn_tutor.runtime.Runtime.record` is collected from that same run, not
recomputed, and the chapter's execution time is added against the chapter's
own target (notebook metadata ``cnn_tutor.time_target_s``). Everything is
printed as a table and written to ``_build/bench.json`` as a list of records
(name, value, unit, target, met, profile, device, chapter, versions), so runs
on different machines or commits can be compared.
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile
import time

from cnn_tutor import runtime

__all__ = ["chapters", "main", "run_chapter"]


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


def _versions():
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in ("tensorflow", "keras", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def run_chapter(path, *, profile, timeout=900):
    """Execute one notebook in a fresh kernel.

    Returns
    -------
    seconds : float
        Wall-clock execution time.
    figures : list of dict
        The figures the chapter recorded, in order.
    target : float or None
        The chapter's time target in seconds, from its metadata.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell of the chapter fails.
    """
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as scratch:
        record_file = pathlib.Path(scratch) / "figures.jsonl"
        saved = {key: os.environ.get(key) for key in (runtime.PROFILE_ENV, runtime.RECORD_ENV, runtime.CHAPTER_ENV)}
        os.environ.update({
            runtime.PROFILE_ENV: profile,
            runtime.RECORD_ENV: str(record_file),
            runtime.CHAPTER_ENV: path.stem,
        })
        try:
            client = nbclient.NotebookClient(
                notebook, timeout=timeout, kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            )
            start = time.perf_counter()
            client.execute()
            seconds = time.perf_counter() - start
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        figures = [json.loads(line) for line in record_file.read_text().splitlines()] if record_file.exists() else []
    target = notebook.metadata.get("cnn_tutor", {}).get("time_target_s")
    return seconds, figures, target


def main(argv=None):
    """Run the benchmark; return the process exit status (0 unless a chapter failed)."""
    parser = argparse.ArgumentParser(prog="python -m cnn_tutor.bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="chapters to run (notebook names without .ipynb); default: all")
    parser.add_argument("--book", default=".", help="the book's root folder (with _toc.yml)")
    parser.add_argument("--profile", default="quick", choices=runtime.PROFILES)
    parser.add_argument("--out", default="_build/bench.json", help="where to write the records")
    args = parser.parse_args(argv)

    paths = chapters(args.book)
    if args.names:
        known = {path.stem: path for path in paths}
        unknown = sorted(set(args.names) - set(known))
        if unknown:
            parser.error(f"unknown chapter(s) {unknown}; the chapters are {sorted(known)}")
        paths = [known[name] for name in args.names]

    versions = _versions()
    device = runtime.device_description()  # what the chapters' kernels will see
    records, failed, total = [], [], 0.0
    for path in paths:
        print(f"running {path.stem} ({args.profile} profile)...", flush=True)
        try:
            seconds, figures, target = run_chapter(path, profile=args.profile)
        except Exception as exc:  # report the failure, go on with the other chapters
            failed.append(path.stem)
            print(f"  FAILED: {type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}")
            continue
        total += seconds
        records.extend(figures)
        records.append({
            "name": f"{path.stem}: execution time", "value": round(seconds, 2), "unit": "s",
            "target": None if target is None else f"<= {target:g}",
            "met": None if target is None else seconds <= target,
            "profile": args.profile, "device": device, "chapter": path.stem, "versions": versions,
        })
    records.append({
        "name": "all chapters: execution time", "value": round(total, 2), "unit": "s", "target": None,
        "met": None, "profile": args.profile, "device": device, "chapter": None, "versions": versions,
    })

    width = max(len(record["name"]) for record in records)
    print(f"\n{'figure':<{width}}  {'value':>12}  {'target':>12}  met")
    for record in records:
        value = f"{record['value']:.4g} {record['unit']}".strip()
        met = {True: "yes", False: "NO", None: ""}[record["met"]]
        print(f"{record['name']:<{width}}  {value:>12}  {record['target'] or '':>12}  {met}")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    print(f"\n{len(records)} records written to {out}")
    if failed:
        print(f"chapters that failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
