"""Printing measured numbers so that a chapter's outputs reproduce on any machine.

The book's notebooks are committed with their outputs, and CI compares a fresh
run with them as text (nbval).  A printed number is one of three kinds:

exact
    Shapes, counts, parameter counts, integer results, a met/MISSED verdict,
    NumPy arithmetic printed at a precision far above its round-off: print it
    as usual; nbval compares it character by character.
drifting
    A figure that comes from training or from long floating-point sums (an
    accuracy, a PSNR, a loss): another CPU (other oneDNN kernels, another
    summation order) moves it in the third decimal.  Print it through
    :func:`show`, :func:`table` or ``rt.record(..., tolerance=...)`` with
    :func:`approx` and a declared tolerance: the text looks the same, and the
    nbval plugin of the book's tests (``tests/nbval_figures.py``) compares the
    value within the tolerance while it compares the rest of the output
    exactly.
round-off
    A difference that is zero up to rounding (NumPy against TensorFlow, 4e-16
    here and 3e-16 there): print :func:`bound`, "< 1e-12", not the value.

How it works: in a Jupyter kernel, :func:`show` and :func:`table` publish
their text as a ``display_data`` output with a ``text/plain`` entry (what
JupyterLab, Colab and the built book show), and the output's metadata lists
each drifting number as it was printed: its name, text, position in the text,
value and tolerance.  Outside a kernel (a script, a doctest) they print the
same text.  Output with no drifting number is always printed.

Used by :meth:`cnn_tutor.runtime.Runtime.record` and by the chapters' tables.
"""

import dataclasses
import numbers
import string
import sys

import numpy as np

from cnn_tutor import _validation

__all__ = ["METADATA_KEY", "Approx", "Relative", "approx", "bound", "relative", "show", "table"]

#: The key of the output metadata that lists the drifting numbers of an output.
METADATA_KEY = "cnn_tutor"


@dataclasses.dataclass(frozen=True)
class Approx:
    """A drifting number: a value, its tolerance and its name, for :func:`show` and :func:`table`.

    Make one with :func:`approx`.  It has no string form of its own (an
    f-string would print it without its tolerance): pass it to :func:`show`.
    """

    value: float
    tolerance: float
    name: str | None = None

    def __format__(self, spec):
        raise TypeError(
            "An `approx(...)` value cannot go into an f-string or str.format: the printed text would "
            "lose its tolerance. Pass it to `report.show(template, ...)` instead, for example "
            "`report.show('accuracy {acc:.3f}', acc=report.approx(acc, tolerance=0.005))`."
        )


def approx(value, tolerance, *, name=None):
    """Mark ``value`` as a drifting number, compared within ``tolerance`` by the notebook test.

    Parameters
    ----------
    value : float
        The measured value (a Python or NumPy number).
    tolerance : float
        The largest absolute difference from the committed value that counts
        as the same result (``>= 0``), in the value's own units.  Choose it
        from the spread measured across kernels or seeds, not wider.
    name : str, optional
        What the number is, for the test's failure message; :func:`show`
        uses the field's name when it is not given.

    Returns
    -------
    Approx

    Examples
    --------
    >>> approx(0.9612, 0.005, name="test accuracy")
    Approx(value=0.9612, tolerance=0.005, name='test accuracy')
    >>> approx(0.96, -1)
    Traceback (most recent call last):
    ...
    ValueError: `tolerance` must be >= 0.0; received -1.0.
    """
    value = _validation.check_float("value", value, allow_inf=True, allow_nan=True)
    tolerance = _validation.check_float("tolerance", tolerance, minimum=0.0)
    if name is not None and not isinstance(name, str):
        raise TypeError(f"`name` must be a string or None; received {name!r} of type {type(name).__name__}.")
    return Approx(value, tolerance, name)


@dataclasses.dataclass(frozen=True)
class Relative:
    """A tolerance that scales with each value: ``max(floor, share * |value|)``; make one with :func:`relative`."""

    share: float
    floor: float = 0.0

    def of(self, value):
        """The tolerance of ``value``."""
        return max(self.floor, self.share * abs(float(value)))


def relative(share, *, floor=0.0):
    """A column tolerance for :func:`table` that is a share of each entry (at least ``floor``).

    A column whose entries span orders of magnitude (a Frechet distance of 3.7
    in one row and 202 in another) drifts in proportion to each entry; one
    absolute tolerance for the column would be far too loose for the small
    entries or too tight for the large ones.

    Parameters
    ----------
    share : float
        The tolerance as a share of the entry's absolute value (``>= 0``).
    floor : float
        The smallest tolerance (``>= 0``), for entries near 0.

    Returns
    -------
    Relative

    Examples
    --------
    >>> relative(0.3, floor=0.5).of(3.7), relative(0.3, floor=0.5).of(-202.0)
    (1.11, 60.6)
    >>> relative(-0.1)
    Traceback (most recent call last):
    ...
    ValueError: `share` must be >= 0.0; received -0.1.
    """
    share = _validation.check_float("share", share, minimum=0.0)
    floor = _validation.check_float("floor", floor, minimum=0.0)
    return Relative(share, floor)


def bound(value, limit):
    """Print a round-off-level difference as a bound: ``"< 1e-12"`` when ``|value| < limit``.

    The text is exact (the same on every machine) while the difference stays
    below ``limit``; when it does not, the text shows the value, so the
    notebook test fails.

    Parameters
    ----------
    value : float
        The difference (for example a maximum absolute error).
    limit : float
        The bound (``> 0``); choose it well above the round-off of the
        computation and well below a real error.

    Returns
    -------
    str

    Examples
    --------
    >>> bound(4.4e-16, 1e-12)
    '< 1e-12'
    >>> bound(np.float32(3e-5), 1e-12)
    '3e-05 (not < 1e-12)'
    """
    value = _validation.check_float("value", value, allow_inf=True, allow_nan=True)
    limit = _validation.check_float("limit", limit)
    if limit <= 0:
        raise ValueError(f"`limit` must be > 0; received {limit!r}.")
    if abs(value) < limit:
        return f"< {limit:g}"
    return f"{value:.2g} (not < {limit:g})"


class _Text:
    """Text under construction, with the drifting numbers placed in it so far."""

    def __init__(self):
        self.parts, self.length, self.numbers = [], 0, []

    def add(self, text):
        self.parts.append(text)
        self.length += len(text)

    def add_number(self, text, number, name):
        """Add ``text``, the printed form of the :class:`Approx` ``number``, named ``name``.

        The number's record leaves out the padding around it (alignment, not the number).
        """
        stripped = text.strip(" ")
        self.numbers.append({
            "name": name,
            "text": stripped,
            "start": self.length + (text.index(stripped) if stripped else 0),
            "value": number.value,
            "tolerance": number.tolerance,
        })
        self.add(text)

    @property
    def text(self):
        return "".join(self.parts)


def _kernel_shell():
    """The running IPython kernel's shell, or None outside a Jupyter kernel."""
    if "IPython" not in sys.modules:  # never import IPython just to find out
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def _emit(text):
    """Print ``text``; in a kernel, with drifting numbers, publish it with their list as metadata."""
    if not text.numbers or _kernel_shell() is None:
        print(text.text)
        return
    from IPython.display import publish_display_data

    publish_display_data({"text/plain": text.text}, metadata={METADATA_KEY: {"approx": text.numbers}})


def _render(template, args, kwargs, out):
    """Append ``template.format(*args, **kwargs)`` to ``out``, placing :class:`Approx` values as numbers."""
    formatter = string.Formatter()
    auto = 0
    for literal, field, spec, conversion in formatter.parse(template):
        out.add(literal)
        if field is None:
            continue
        if field == "":
            field, auto = str(auto), auto + 1
        value, _ = formatter.get_field(field, args, kwargs)
        if spec and "{" in spec:
            spec = formatter.vformat(spec, args, kwargs)
        if isinstance(value, Approx):
            if conversion:
                raise ValueError(f"`template` field {{{field}!{conversion}}}: an approx value takes no conversion.")
            try:
                text = format(value.value, spec)
            except ValueError as error:
                raise ValueError(
                    f"`template` field {{{field}:{spec}}} does not apply to {value.value!r}: {error}."
                ) from None
            out.add_number(text, value, value.name or (f"value {field}" if field.isdigit() else field))
        else:
            out.add(format(formatter.convert_field(value, conversion), spec))


def show(template, /, *args, **kwargs):
    """Print one line (or several) of text in which some numbers drift; see :func:`approx`.

    ``template`` is a ``str.format`` template.  Fields whose value is an
    :func:`approx` are drifting numbers; every other field, and the text
    around them, is exact.

    Parameters
    ----------
    template : str
        For example ``"test accuracy {acc:.3f} on {n:,} digits"``.
    *args, **kwargs
        The fields' values.

    Examples
    --------
    >>> show("test accuracy {acc:.3f} on {n:,} digits", acc=approx(0.96123, 0.005), n=1000)
    test accuracy 0.961 on 1,000 digits
    >>> show("{} images of shape {}", 4, (28, 28))
    4 images of shape (28, 28)
    """
    if not isinstance(template, str):
        raise TypeError(
            f"`template` must be a str.format template; received {template!r} of type {type(template).__name__}."
        )
    out = _Text()
    _render(template, args, kwargs, out)
    _emit(out)


def _is_number(cell):
    return isinstance(cell, numbers.Number) and not isinstance(cell, bool)


def _per_column(name, setting, columns, kinds):
    """``setting`` (one value, or a mapping from column names) as one value per column, or None."""
    if isinstance(setting, dict):
        unknown = [key for key in setting if key not in columns]
        if unknown:
            raise ValueError(
                f"`{name}` names columns that the table does not have: {unknown!r}; the columns are {list(columns)!r}."
            )
        return [setting.get(column) for column in columns]
    return [setting if kind == "float" else None for kind in kinds]


def table(rows, columns, *, fmt=None, tolerance=None):
    """Print a table with aligned columns; columns with a tolerance hold drifting numbers.

    Text is aligned left and numbers right, each column as wide as its
    widest entry.  Floats are printed with ``fmt`` (default ``".3f"``),
    integers with thousands separators, ``None`` as ``-``.  The notebook test
    compares every entry exactly, except those of a column with a tolerance,
    which it compares within that tolerance (and it ignores the alignment
    spaces next to them, which move when a number gains a digit).

    Parameters
    ----------
    rows : sequence of sequence
        One sequence per row, one entry per column.
    columns : sequence of str
        The column headers.
    fmt : str or dict, optional
        The format of the floats: one format for every float column, or
        ``{column: format}`` for some columns (applied to ints as well).
    tolerance : float, Relative or dict, optional
        One tolerance for every float column, or ``{column: tolerance}``
        (ints included; the other columns are exact).  A tolerance is a
        number (absolute) or :func:`relative` (a share of each entry).
        ``None``: every entry is exact.

    Examples
    --------
    >>> table([["denoiser", 18.348, 93_322], ["median filter", 15.2, 0]],
    ...       ["method", "PSNR (dB)", "parameters"], fmt={"PSNR (dB)": ".2f"},
    ...       tolerance={"PSNR (dB)": 0.1})
    method         PSNR (dB)  parameters
    denoiser           18.35      93,322
    median filter      15.20           0
    >>> table([["DCGAN", 3.71], ["VAE", 133.7]], ["method", "FD"], fmt=".1f",
    ...       tolerance={"FD": relative(0.3)})
    method     FD
    DCGAN     3.7
    VAE     133.7
    >>> table([["a", 1.0]], ["name", "value", "extra"])
    Traceback (most recent call last):
    ...
    ValueError: `rows[0]` must have one entry per column (3); received 2 entries: ['a', 1.0].
    """
    if isinstance(columns, str) or not isinstance(columns, (list, tuple)):
        raise TypeError(f"`columns` must be a list of column headers; received {columns!r}.")
    columns = [str(column) for column in columns]
    if isinstance(rows, (str, bytes)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"`rows` must be a sequence of rows; received {rows!r}.")
    rows = [list(row) if not isinstance(row, (str, bytes)) and hasattr(row, "__iter__") else row for row in rows]
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise ValueError(
                f"`rows[{index}]` must have one entry per column ({len(columns)}); received "
                f"{len(row) if isinstance(row, list) else 'not a sequence'} entries: {row!r}."
            )
    kinds = []
    for position in range(len(columns)):
        cells = [row[position] for row in rows if row[position] is not None]
        if cells and all(_is_number(cell) for cell in cells):
            kinds.append("int" if all(isinstance(cell, (numbers.Integral, np.integer)) for cell in cells) else "float")
        else:
            kinds.append("text")
    if fmt is None or isinstance(fmt, (str, dict)):
        formats = _per_column("fmt", fmt, columns, kinds)
    else:
        raise TypeError(f"`fmt` must be a format string or a dict {{column: format}}; received {fmt!r}.")
    if tolerance is not None and not isinstance(tolerance, (dict, Relative)):
        tolerance = _validation.check_float("tolerance", tolerance, minimum=0.0)
    tolerances = [value if value is None or isinstance(value, Relative)
                  else _validation.check_float(f"tolerance[{column!r}]", value, minimum=0.0)
                  for column, value in zip(columns, _per_column("tolerance", tolerance, columns, kinds))]
    for column, kind, tol in zip(columns, kinds, tolerances):
        if tol is not None and kind == "text":
            raise ValueError(
                f"`tolerance` names the column {column!r}, which holds text; a tolerance applies to numbers."
            )

    cells = []  # (text, Approx or None) per entry
    for row in rows:
        entries = []
        for cell, kind, spec, tol in zip(row, kinds, formats, tolerances):
            if cell is None:
                entries.append(("-", None))
                continue
            if spec is None:
                spec = ".3f" if kind == "float" else ("," if kind == "int" else "")
            if isinstance(tol, Relative):
                tol = tol.of(cell)
            entries.append((format(cell, spec), None if tol is None else Approx(float(cell), tol)))
        cells.append(entries)
    widths = [max([len(column)] + [len(entries[i][0]) for entries in cells]) for i, column in enumerate(columns)]

    def aligned(text, position):
        return text.rjust(widths[position]) if kinds[position] != "text" else text.ljust(widths[position])

    out = _Text()
    out.add("  ".join(aligned(column, i) for i, column in enumerate(columns)).rstrip())
    for row, entries in zip(rows, cells):
        out.add("\n")
        for position, (text, number) in enumerate(entries):
            padded = aligned(text, position)
            if position == len(entries) - 1:
                padded = padded.rstrip()
            if position:
                out.add("  ")
            if number is None:
                out.add(padded)
                continue
            offset = padded.index(text)
            out.add(padded[:offset])
            out.add_number(text, number, f"{row[0]} / {columns[position]}")
            out.add(padded[offset + len(text):])
    _emit(out)
