"""Tests of cnn_tutor.report: the printed text, and where its drifting numbers are."""

import numpy as np
import pytest

from cnn_tutor import report


@pytest.fixture
def kernel(monkeypatch):
    """Pretend to be in a Jupyter kernel; collect what would be published."""
    published = []
    monkeypatch.setattr(report, "_kernel_shell", lambda: object())
    monkeypatch.setattr("IPython.display.publish_display_data", lambda data, metadata: published.append((data, metadata)))
    return published


def _numbers(published):
    ((data, metadata),) = published
    text = data["text/plain"]
    numbers = metadata[report.METADATA_KEY]["approx"]
    for number in numbers:  # every number is where the metadata says
        assert text[number["start"]: number["start"] + len(number["text"])] == number["text"]
    return text, numbers


def test_show_prints_outside_a_kernel(capsys):
    report.show("accuracy {acc:.3f} on {n:,} digits", acc=report.approx(0.96123, 0.005), n=1000)
    report.show("{} and {!r}", 1, "a")
    assert capsys.readouterr().out == "accuracy 0.961 on 1,000 digits\n1 and 'a'\n"


def test_show_publishes_the_numbers_in_a_kernel(kernel, capsys):
    report.show("{0} vs {1:.2f} vs {b:{width}.1f}", report.approx(1.5, 0.1, name="first"), report.approx(2.0, 0.2),
                b=report.approx(3.25, 0.3), width=6)
    text, numbers = _numbers(kernel)
    assert text == "1.5 vs 2.00 vs    3.2"
    assert [(n["name"], n["text"], n["value"], n["tolerance"]) for n in numbers] == [
        ("first", "1.5", 1.5, 0.1), ("value 1", "2.00", 2.0, 0.2), ("b", "3.2", 3.25, 0.3),
    ]
    assert capsys.readouterr().out == ""


def test_exact_text_is_printed_even_in_a_kernel(kernel, capsys):
    report.show("{} images", 4)
    report.table([["a", 1]], ["name", "count"])
    assert kernel == [] and capsys.readouterr().out == "4 images\nname  count\na         1\n"


def test_table_aligns_and_marks_the_columns_with_a_tolerance(kernel):
    report.table(
        [["denoiser", 18.348, np.float32(0.8712), 93_322], ["median filter", np.float64(15.2), 0.8, None]],
        ["method", "PSNR (dB)", "SSIM", "parameters"],
        fmt={"PSNR (dB)": ".2f"}, tolerance={"PSNR (dB)": 0.1, "SSIM": 0.01},
    )
    text, numbers = _numbers(kernel)
    assert text.splitlines() == [
        "method         PSNR (dB)   SSIM  parameters",
        "denoiser           18.35  0.871      93,322",
        "median filter      15.20  0.800           -",
    ]
    assert [(n["name"], n["text"], n["tolerance"]) for n in numbers] == [
        ("denoiser / PSNR (dB)", "18.35", 0.1), ("denoiser / SSIM", "0.871", 0.01),
        ("median filter / PSNR (dB)", "15.20", 0.1), ("median filter / SSIM", "0.800", 0.01),
    ]
    assert numbers[0]["value"] == 18.348 and numbers[1]["value"] == pytest.approx(0.8712)


def test_one_tolerance_applies_to_every_float_column(kernel):
    report.table([["a", 0.5, 3], ["b", 0.25, 4]], ["name", "x", "n"], fmt=".2f", tolerance=0.01)
    text, numbers = _numbers(kernel)
    assert text == "name     x  n\na     0.50  3\nb     0.25  4"
    assert [n["name"] for n in numbers] == ["a / x", "b / x"]  # the int column stays exact


def test_a_relative_tolerance_scales_with_each_entry_and_keeps_its_floor(kernel):
    report.table([["DCGAN", 3.71], ["VAE", -133.7], ["real", 0.01]], ["method", "FD"], fmt=".1f",
                 tolerance={"FD": report.relative(0.3, floor=0.5)})
    _, numbers = _numbers(kernel)
    assert [n["tolerance"] for n in numbers] == pytest.approx([1.113, 40.11, 0.5])
    report.table([["a", 10.0, 2.0]], ["name", "x", "y"], tolerance=report.relative(0.1))
    assert [n["tolerance"] for n in _numbers(kernel[1:])[1]] == pytest.approx([1.0, 0.2])


def test_bound():
    assert report.bound(-4.4e-16, 1e-12) == "< 1e-12"
    assert report.bound(2e-12, 1e-12) == "2e-12 (not < 1e-12)"
    assert report.bound(float("nan"), 1e-12) == "nan (not < 1e-12)"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: report.approx("0.9", 0.1), TypeError, "`value` must be a real number; received '0.9'"),
        (lambda: report.approx(0.9, float("nan")), ValueError, "`tolerance` must be finite; received nan"),
        (lambda: report.approx(0.9, 0.1, name=3), TypeError, "`name` must be a string or None; received 3"),
        (lambda: report.relative(-0.1), ValueError, "`share` must be >= 0.0; received -0.1"),
        (lambda: report.relative(0.1, floor=-1), ValueError, "`floor` must be >= 0.0; received -1"),
        (lambda: report.table([["a", "x"]], ["n", "t"], tolerance={"t": report.relative(0.1)}), ValueError,
         "names the column 't', which holds text"),
        (lambda: f"{report.approx(0.9, 0.1):.2f}", TypeError, "cannot go into an f-string"),
        (lambda: report.show(3), TypeError, "`template` must be a str.format template; received 3"),
        (lambda: report.show("{x:d}", x=report.approx(0.5, 0.1)), ValueError, r"`template` field \{x:d\} does not apply"),
        (lambda: report.bound(1e-16, 0), ValueError, "`limit` must be > 0; received 0.0"),
        (lambda: report.table([["a", 1]], "name"), TypeError, "`columns` must be a list of column headers"),
        (lambda: report.table(5, ["a"]), TypeError, "`rows` must be a sequence of rows; received 5"),
        (lambda: report.table([["a"]], ["a", "b"]), ValueError, r"`rows\[0\]` must have one entry per column \(2\)"),
        (lambda: report.table([["a", 1.0]], ["a", "b"], tolerance={"c": 0.1}), ValueError,
         r"`tolerance` names columns that the table does not have: \['c'\]"),
        (lambda: report.table([["a", 1.0]], ["a", "b"], tolerance={"a": 0.1}), ValueError,
         "`tolerance` names the column 'a', which holds text"),
        (lambda: report.table([["a", 1.0]], ["a", "b"], tolerance=-1), ValueError, "`tolerance` must be >= 0.0"),
        (lambda: report.table([["a", 1.0]], ["a", "b"], fmt=3), TypeError, "`fmt` must be a format string or a dict"),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
