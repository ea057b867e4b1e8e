"""nbval plugin: compare drifting numbers within their declared tolerance, and everything else exactly.

Load it with ``-p tests.nbval_figures`` next to ``--nbval`` (``make test-notebooks`` does).

:mod:`cnn_tutor.report` publishes text that holds drifting numbers (training
figures, long float sums) as a ``display_data`` output whose metadata lists
each number as printed: name, text, position, value, tolerance.  This plugin
wraps nbval's ``IPyNbCell.compare_outputs``: in the committed and in the fresh
outputs it replaces those numbers by a placeholder (and shrinks the runs of
alignment spaces, which move when a number gains a digit), lets nbval compare
the rest as text, exactly as before, then compares the numbers pairwise: same
names, ``|fresh - committed| <= tolerance`` (the fresh run's tolerance, which
is the one the code declares now).  A failure names the figure, both values
and the tolerance.

At the end of the session it prints, per notebook, how many code cells were
compared exactly, how many with tolerances, and how many have their output
ignored.
"""

import collections
import copy
import math
import re

import nbformat

METADATA_KEY = "cnn_tutor"  # = cnn_tutor.report.METADATA_KEY (the plugin does not import the package)
PLACEHOLDER = "<~>"

_SPACES = re.compile(r" {2,}")
_stats = collections.defaultdict(collections.Counter)


class MaskError(ValueError):
    """An output's metadata does not match its text."""


def _text(value):
    return "".join(value) if isinstance(value, list) else value


def mask_outputs(outputs):
    """Replace the drifting numbers of ``outputs`` by a placeholder.

    Returns ``(masked, numbers)``: copies of the outputs (the originals are
    untouched) and the list of number records, in order.  Outputs without
    such numbers are returned as they are.
    """
    masked, numbers = [], []
    for output in outputs:
        records = (output.get("metadata") or {}).get(METADATA_KEY, {}).get("approx")
        data = output.get("data") or {}
        if not records or "text/plain" not in data:
            masked.append(output)
            continue
        text = _text(data["text/plain"])
        pieces, position = [], 0
        for record in records:
            start, printed = record["start"], record["text"]
            if start < position or text[start : start + len(printed)] != printed:
                raise MaskError(
                    f"the output metadata says {record.get('name')!r} was printed as {printed!r} at character "
                    f"{start}, but the text there is {text[start : start + len(printed)]!r}; re-execute the notebook "
                    "instead of editing its outputs by hand."
                )
            pieces += [text[position:start], PLACEHOLDER]
            position = start + len(printed)
        pieces.append(text[position:])
        copied = copy.deepcopy(output)
        copied["data"]["text/plain"] = _SPACES.sub(" ", "".join(pieces))
        masked.append(nbformat.from_dict(copied) if isinstance(output, nbformat.NotebookNode) else copied)
        numbers.extend(records)
    return masked, numbers


def compare_numbers(committed, fresh):
    """The problems between two lists of number records, as messages (empty: they agree)."""
    if len(committed) != len(fresh):
        names = lambda records: [record.get("name") for record in records]  # noqa: E731
        return [
            f"The committed output holds {len(committed)} number(s) compared with a tolerance "
            f"{names(committed)}, the fresh run {len(fresh)} {names(fresh)}. Re-execute the notebook and "
            "commit its outputs after changing what a cell prints."
        ]
    problems = []
    for old, new in zip(committed, fresh):
        if old.get("name") != new.get("name"):
            problems.append(
                f"A number compared with a tolerance changed its name: {old.get('name')!r} -> {new.get('name')!r}."
            )
            continue
        a, b, tolerance = float(old["value"]), float(new["value"]), float(new["tolerance"])
        if math.isnan(a) and math.isnan(b):
            continue
        difference = abs(b - a)
        if not difference <= tolerance * (1 + 1e-9) + 1e-300:
            problems.append(
                f"{new.get('name')!r} moved outside its tolerance: committed {old['text']} ({a!r}), "
                f"this run {new['text']} ({b!r}); difference {difference:.3g} > tolerance {tolerance:g}."
            )
    return problems


def _install():
    from nbval.plugin import IPyNbCell

    if getattr(IPyNbCell.compare_outputs, "_cnn_tutor_figures", False):
        return
    original = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        stats = _stats[str(getattr(self, "path", None) or self.fspath)]
        try:
            test_masked, test_numbers = mask_outputs(test)
            ref_masked, ref_numbers = mask_outputs(ref)
        except MaskError as error:
            self.comparison_traceback = [f"Cannot compare the numbers of this cell: {error}"]
            return False
        stats["with tolerance" if ref_numbers or test_numbers else "exactly"] += 1
        stats["numbers"] += len(ref_numbers)
        if not original(self, test_masked, ref_masked, skip_compare):
            return False
        problems = compare_numbers(ref_numbers, test_numbers)
        if problems:
            self.comparison_traceback = problems
            return False
        return True

    compare_outputs._cnn_tutor_figures = True
    IPyNbCell.compare_outputs = compare_outputs


def pytest_configure(config):
    _install()


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        options = getattr(item, "options", None)
        if type(item).__name__ == "IPyNbCell" and options is not None:
            if options["skip"] or not options["check"]:
                _stats[str(getattr(item, "path", None) or item.fspath)]["output ignored"] += 1


def pytest_terminal_summary(terminalreporter):
    if not _stats:
        return
    terminalreporter.section("cells compared (cnn_tutor figures)")
    for path, counts in sorted(_stats.items()):
        terminalreporter.write_line(
            f"{path}: {counts['exactly']} exactly, {counts['with tolerance']} with tolerance "
            f"({counts['numbers']} numbers), {counts['output ignored']} output ignored"
        )
