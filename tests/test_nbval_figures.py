"""The notebook regression machinery: drifting numbers within tolerance, everything else exact.

The end-to-end test runs nbval with the plugin ``tests/nbval_figures.py`` in a
subprocess on the fixture notebook ``tests/fixtures/regression.ipynb`` (its
committed outputs) and on copies with planted changes in the code: each
regression must fail the cell it touches, and a drift within the declared
tolerances must pass.  No TensorFlow: a few seconds.
"""

import copy
import os
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import nbformat
import pytest

import nbval_figures  # tests/ is on sys.path (pytest puts it there for its test modules)

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "regression.ipynb"

# Cells are numbered as nbval numbers them: code cells only, from 0.
# name: (cell, old code, new code, the cells that must fail, text their failure must show)
PLANTED = {
    "baseline": (None, None, None, set(), []),
    # Every figure moves by 0.003 (what another CPU does), 9.998 becomes 10.001 (one more digit).
    "drift_within_tolerance": (0, "DRIFT = 0.0", "DRIFT = 0.003", set(), []),
    "figure_outside_tolerance": (
        1, "0.9612", "0.9512", {1},
        ["'test accuracy' moved outside its tolerance", "committed 0.961", "this run 0.951", "tolerance 0.005"],
    ),
    # 0.12 -> 0.08 dB is within the tolerance of 0.05 dB, but the target 0.1 is now missed.
    "verdict_flips": (2, "0.12 + DRIFT", "0.08 + DRIFT", {2}, ["met)", "MISSED)"]),
    "shape_changes": (4, "images[:, ::2, ::2]", "images[:, ::3, ::3]", {4}, ["(14, 14, 1)", "(10, 10, 1)"]),
}
CODE_CELLS = 6


def _planted(notebook, cell, old, new):
    planted = copy.deepcopy(notebook)
    if cell is not None:
        code = [item for item in planted.cells if item.cell_type == "code"][cell]
        assert old in code.source, f"the fixture's code cell {cell} no longer contains {old!r}"
        code.source = code.source.replace(old, new)
    return planted


@pytest.fixture(scope="module")
def nbval_run(tmp_path_factory):
    """Run nbval once over the fixture and every planted copy; return {name: {cell: failure text}}."""
    folder = tmp_path_factory.mktemp("planted")
    notebook = nbformat.read(FIXTURE, as_version=4)
    for name, (cell, old, new, _, _) in PLANTED.items():
        nbformat.write(_planted(notebook, cell, old, new), folder / f"{name}.ipynb")
    report = folder / "report.xml"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    command = [
        sys.executable, "-m", "pytest", "-p", "tests.nbval_figures", "--nbval", "--nbval-current-env",
        "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), "-p", "no:cacheprovider",
        "--rootdir", str(folder), "-c", os.devnull, f"--junitxml={report}", "-q", str(folder),
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert report.exists(), result.stdout + result.stderr
    outcomes = {name: {} for name in PLANTED}
    for case in ElementTree.parse(report).getroot().iter("testcase"):  # classname "NAME.ipynb", name "Cell N"
        failure = case.find("failure")
        cell = int(case.get("name").removeprefix("Cell "))
        text = None if failure is None else failure.get("message", "") + (failure.text or "")
        outcomes[case.get("classname").removesuffix(".ipynb")][cell] = text
    return outcomes, result.stdout


@pytest.mark.parametrize("name", list(PLANTED))
def test_planted_regressions_fail_and_drift_within_tolerance_passes(nbval_run, name):
    outcomes, _ = nbval_run
    _, _, _, must_fail, shown = PLANTED[name]
    cells = outcomes[name]
    assert len(cells) == CODE_CELLS, f"nbval did not run every cell of {name}: {sorted(cells)}"
    failed = {cell for cell, failure in cells.items() if failure is not None}
    assert failed == must_fail
    for cell in must_fail:
        for text in shown:
            assert text in cells[cell], f"{name}, cell {cell}: {text!r} not in the failure:\n{cells[cell]}"


def test_the_summary_counts_exact_and_tolerant_cells(nbval_run):
    _, stdout = nbval_run
    lines = [line for line in stdout.splitlines() if "baseline.ipynb: " in line]
    assert len(lines) == 1 and lines[0].endswith("baseline.ipynb: 2 exactly, 4 with tolerance (5 numbers), 0 output ignored")


def test_the_fixture_has_committed_tolerances():
    """Without metadata in the committed outputs, the end-to-end test would prove nothing."""
    notebook = nbformat.read(FIXTURE, as_version=4)
    numbers = [number for cell in notebook.cells if cell.cell_type == "code"
               for number in nbval_figures.mask_outputs(cell.outputs)[1]]
    assert [number["name"] for number in numbers] == [
        "test accuracy", "PSNR gain over the median filter", "denoiser / PSNR (dB)", "median filter / PSNR (dB)", "psnr",
    ]


def _display(text, numbers):
    return nbformat.from_dict({
        "output_type": "display_data", "data": {"text/plain": text}, "metadata": {"cnn_tutor": {"approx": numbers}},
    })


def _number(name, text, start, value, tolerance):
    return {"name": name, "text": text, "start": start, "value": value, "tolerance": tolerance}


def test_mask_replaces_the_numbers_and_shrinks_alignment_spaces():
    output = _display("acc    0.961 on 1,000", [_number("acc", "0.961", 7, 0.9612, 0.005)])
    (masked,), numbers = nbval_figures.mask_outputs([output])
    assert masked["data"]["text/plain"] == "acc <~> on 1,000"
    assert output["data"]["text/plain"] == "acc    0.961 on 1,000"  # the original is untouched
    assert numbers == [_number("acc", "0.961", 7, 0.9612, 0.005)]
    stream = nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "a   b"})
    assert nbval_figures.mask_outputs([stream]) == ([stream], [])


def test_mask_refuses_metadata_that_does_not_match_the_text():
    output = _display("acc 0.961", [_number("acc", "0.962", 4, 0.962, 0.005)])
    with pytest.raises(nbval_figures.MaskError, match="'acc' was printed as '0.962' at character 4"):
        nbval_figures.mask_outputs([output])


@pytest.mark.parametrize(
    ("fresh", "problem"),
    [
        (_number("acc", "0.966", 0, 0.9660, 0.005), None),
        (_number("acc", "0.957", 0, 0.9570, 0.005), None),
        (_number("acc", "0.967", 0, 0.9670, 0.005), "'acc' moved outside its tolerance: committed 0.961 (0.9612), "
                                                    "this run 0.967 (0.967); difference 0.0058 > tolerance 0.005."),
        (_number("loss", "0.961", 0, 0.9612, 0.005), "changed its name: 'acc' -> 'loss'"),
        (_number("acc", "nan", 0, float("nan"), 0.005), "moved outside its tolerance"),
    ],
)
def test_compare_numbers(fresh, problem):
    problems = nbval_figures.compare_numbers([_number("acc", "0.961", 0, 0.9612, 0.005)], [fresh])
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_compare_numbers_needs_the_same_count():
    (problem,) = nbval_figures.compare_numbers([_number("a", "1", 0, 1.0, 0.1)], [])
    assert "holds 1 number(s)" in problem and "the fresh run 0 []" in problem
