"""Tests of the benchmark command on a two-chapter toy book."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnn_tutor import bench


@pytest.fixture
def toy_book(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Toy\n    chapters:\n"
        "      - file: book/measures\n      - file: book/notes\n"
    )
    (tmp_path / "book" / "notes.md").write_text("(notes)=\n# Notes\n")
    intro = new_notebook(cells=[new_markdown_cell("# Intro"), new_code_cell("x = 1")])
    measures = new_notebook(cells=[new_code_cell(
        "from cnn_tutor import runtime\n"
        "rt = runtime.Runtime(profile=runtime.current_profile(), seed=0, device='toy', gpus=(), versions={})\n"
        "rt.record('answer', 42.0, unit='', at_least=40)\n"
        "rt.record('speed', 3.0, unit='s', at_most=1)"
    )])
    measures.metadata["cnn_tutor"] = {"time_target_s": 120}
    for name, notebook in (("intro", intro), ("measures", measures)):
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, tmp_path / "book" / f"{name}.ipynb")
    return tmp_path


def test_chapters_follow_the_table_of_contents(toy_book):
    assert [path.stem for path in bench.chapters(toy_book)] == ["intro", "measures"]


def test_bench_collects_the_figures_each_chapter_records(toy_book, capsys):
    out = toy_book / "_build" / "bench.json"
    assert bench.main(["--book", str(toy_book), "--out", str(out)]) == 0
    records = json.loads(out.read_text())
    by_name = {record["name"]: record for record in records}
    assert by_name["answer"]["value"] == 42.0 and by_name["answer"]["met"] is True
    assert by_name["speed"]["met"] is False and by_name["speed"]["target"] == "<= 1"
    assert by_name["answer"]["chapter"] == "measures" and by_name["answer"]["profile"] == "quick"
    timing = by_name["measures: execution time"]
    assert timing["unit"] == "s" and timing["target"] == "<= 120" and timing["met"] is True
    assert by_name["intro: execution time"]["target"] is None
    total = by_name["all chapters: execution time"]["value"]
    assert total == pytest.approx(timing["value"] + by_name["intro: execution time"]["value"], abs=0.02)
    for record in records:
        assert set(record) == {"name", "value", "unit", "target", "met", "profile", "device", "chapter", "versions"}
        assert record["device"]
    assert timing["versions"]["tensorflow"] and timing["versions"]["keras"]
    table = capsys.readouterr().out
    assert "speed" in table and "NO" in table


def test_bench_rejects_unknown_chapters(toy_book):
    with pytest.raises(SystemExit):
        bench.main(["--book", str(toy_book), "nonexistent"])


def test_bench_reports_a_failing_chapter(toy_book, capsys):
    broken = new_notebook(cells=[new_code_cell("raise RuntimeError('boom')")])
    broken.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(broken, toy_book / "book" / "intro.ipynb")
    assert bench.main(["--book", str(toy_book), "--out", str(toy_book / "b.json")]) == 1
    assert "chapters that failed: intro" in capsys.readouterr().out
