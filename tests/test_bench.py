"""Tests of the benchmark command and its results files, on a toy book of two notebooks."""

import json
import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnn_tutor import bench

_MEASURES = (
    "from cnn_tutor import runtime\n"
    "rt = runtime.Runtime(profile=runtime.current_profile(), seed=0, device='toy device', gpus=(), versions={})\n"
    "runtime._current = rt  # what setup() does\n"
    "rt.record('answer', 42.0, unit='', at_least=40)\n"
    "rt.record('speed', 3.0, unit='s', at_most=1)"
)


def _write(book, name, cells, **metadata):
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata.update(metadata)
    nbformat.write(notebook, book / "book" / f"{name}.ipynb")


@pytest.fixture
def toy_book(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Toy\n    chapters:\n"
        "      - file: book/measures\n      - file: book/notes\n"
    )
    (tmp_path / "book" / "notes.md").write_text("(notes)=\n# Notes\n")
    _write(tmp_path, "intro", [new_markdown_cell("(intro)=\n# The intro"), new_code_cell("x = 1")])
    _write(tmp_path, "measures", [new_markdown_cell("# Measures"), new_code_cell(_MEASURES)],
           cnn_tutor={"time_target_s": 120})
    return tmp_path


def test_chapters_follow_the_table_of_contents(toy_book):
    assert [path.stem for path in bench.chapters(toy_book)] == ["intro", "measures"]


def test_bench_writes_one_results_file_with_every_chapter_and_figure(toy_book, capsys):
    assert bench.main(["--book", str(toy_book), "--note", "toy run"]) == 0
    path = toy_book / "book" / "_results" / "quick-cpu.json"
    results = bench.load_results(path)
    assert (results["schema"], results["profile"], results["device_key"], results["note"]) == (
        bench.SCHEMA, "quick", "cpu", "toy run")
    intro, measures = results["chapters"]
    assert (intro["chapter"], intro["title"], intro["status"]) == ("intro", "The intro", "ran")
    assert intro["time_target_s"] is None and intro["time_met"] is None and intro["device"] is None
    assert measures["figures"] == [
        {"name": "answer", "value": 42.0, "unit": "", "target": ">= 40", "met": True},
        {"name": "speed", "value": 3.0, "unit": "s", "target": "<= 1", "met": False},
    ]
    assert measures["time_target_s"] == 120 and measures["time_met"] is (measures["wall_s"] <= 120)
    assert 0 < measures["wall_s"] < 120
    # What the chapter's kernel ran on, asked after its last cell:
    assert (measures["device"], measures["device_kind"], measures["profile"]) == ("toy device", "cpu", "quick")
    assert measures["logical_cpus"] == len(os.sched_getaffinity(0))
    import numpy

    assert measures["versions"]["numpy"] == numpy.__version__
    assert measures["versions"].get("tensorflow") or measures["versions"].get("tensorflow-cpu")
    table = capsys.readouterr().out
    assert "measures: execution time" in table and "speed" in table and "NO" in table
    assert "written to" in table and "quick-cpu.json" in table


def test_a_second_run_updates_its_chapters_and_keeps_the_others(toy_book):
    out = toy_book / "results.json"
    assert bench.main(["--book", str(toy_book), "--out", str(out), "measures"]) == 0
    first = bench.load_results(out)["chapters"]
    assert [entry["chapter"] for entry in first] == ["measures"]
    assert bench.main(["--book", str(toy_book), "--out", str(out), "intro"]) == 0
    merged = bench.load_results(out)["chapters"]
    assert [entry["chapter"] for entry in merged] == ["intro", "measures"]  # in the book's order
    assert merged[1] == first[0]  # kept as it was
    assert bench.main(["--book", str(toy_book), "--out", str(out), "--fresh", "intro"]) == 0
    assert [entry["chapter"] for entry in bench.load_results(out)["chapters"]] == ["intro"]


def test_bench_reports_a_failing_chapter_with_what_it_measured_before(toy_book, capsys):
    _write(toy_book, "measures", [new_code_cell(_MEASURES), new_code_cell("raise RuntimeError('boom')")])
    out = toy_book / "b.json"
    assert bench.main(["--book", str(toy_book), "--out", str(out)]) == 1
    assert "chapters that failed: measures" in capsys.readouterr().out
    entry = bench.load_results(out)["chapters"][1]
    assert entry["status"] == "failed" and "boom" in entry["error"] and entry["wall_s"] is None
    assert [figure["name"] for figure in entry["figures"]] == ["answer", "speed"]


def test_bench_rejects_unknown_chapters(toy_book):
    with pytest.raises(SystemExit):
        bench.main(["--book", str(toy_book), "nonexistent"])


def test_bench_says_what_it_needs(toy_book, monkeypatch, capsys):
    monkeypatch.setattr(bench._run, "_importable", lambda module: module != "nbclient")
    assert bench.main(["--book", str(toy_book)]) == 2
    message = capsys.readouterr().err
    assert "needs pyyaml, nbclient and nbformat; missing here: nbclient" in message
    assert "cnn-tutor[bench]" in message


def test_record_projection(toy_book):
    out = toy_book / "full.json"
    entry = bench.record_projection(
        "measures", epoch_seconds=[10.0, 12.0], epochs=30, fixed_seconds=5.0, reason="30 epochs take 6 min here",
        measured_with="two epochs of the chapter's training", book=toy_book, out=out,
    )
    assert entry["projection"]["projected_s"] == 5.0 + 30 * 11.0
    assert entry["title"] == "Measures" and entry["time_target_s"] == 120 and entry["status"] == "projected"
    results = bench.load_results(out)
    assert results["profile"] == "full" and results["chapters"] == [entry]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epoch_seconds": []}, ValueError, r"`epoch_seconds` must be a non-empty sequence"),
        ({"epoch_seconds": [1.0, -2.0]}, ValueError, r"`epoch_seconds\[1\]` must be >= 0.0"),
        ({"epochs": 0}, ValueError, r"`epochs` must be >= 1"),
        ({"reason": " "}, ValueError, r"`reason` must say it in words"),
        ({"profile": "fast"}, ValueError, r"`profile` must be one of 'quick', 'full'"),
    ],
)
def test_record_projection_errors(toy_book, kwargs, error, message):
    arguments = {"epoch_seconds": [1.0], "epochs": 3, "reason": "too long", "measured_with": "a probe",
                 "book": toy_book, "out": toy_book / "p.json", **kwargs}
    with pytest.raises(error, match=message):
        bench.record_projection("measures", **arguments)


def _valid_results():
    chapter = {key: None for key in bench._results._CHAPTER_KEYS} | {
        "chapter": "x", "status": "ran", "wall_s": 1.0, "figures": [], "versions": {}}
    return {"schema": bench.SCHEMA, "profile": "quick", "device_key": "cpu", "updated": "", "note": None,
            "chapters": [chapter]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(schema="other/1"), r"its `schema` must be 'cnn-tutor-bench/1'"),
        (lambda r: r.update(device_key="tpu"), r"`device_key` 'cpu' or 'gpu'"),
        (lambda r: r["chapters"][0].pop("backend"), r"chapter 'x' must have exactly the keys"),
        (lambda r: r["chapters"][0].update(status="skipped"), r"chapter 'x' has status 'skipped'"),
        (lambda r: r["chapters"][0].update(wall_s=None), r"chapter 'x' ran but has no `wall_s`"),
        (lambda r: r["chapters"][0].update(status="projected"), r"a `projection` goes with status 'projected'"),
        (lambda r: r["chapters"][0]["figures"].append({"name": "a", "value": 1}), r"each figure has exactly the keys"),
    ],
)
def test_load_results_checks_the_format(tmp_path, change, message):
    results = _valid_results()
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results))
    assert bench.load_results(path) == results
    change(results)
    path.write_text(json.dumps(results))
    with pytest.raises(ValueError, match=rf"{path} is not a results file .*{message}"):
        bench.load_results(path)


def test_logical_cpus_follow_the_process_affinity():
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity on this platform")
    one = min(os.sched_getaffinity(0))
    code = "from cnn_tutor import bench; print(bench._facts._logical_cpus())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            preexec_fn=lambda: os.sched_setaffinity(0, {one}), env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_environment_facts_name_the_keras_backend():
    import keras

    facts = bench.environment_facts()
    assert facts["backend"] == keras.config.backend()
    assert facts["cpu_model"]
