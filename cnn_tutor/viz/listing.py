"""The package's own code, shown in a chapter: without docstrings, syntax-highlighted.

A chapter that teaches a function shows the code that runs, not a copy of
it.  Sphinx's ``literalinclude`` does that in the built book only: Jupyter
and Colab show it as raw directive text, and it shows a function's whole
numpydoc docstring around the few lines that do the work.
:func:`code_listing` returns an object that a notebook displays as
highlighted HTML (Jupyter, Colab and the built book alike) and as plain text
elsewhere, with the docstrings left out, each function headed by the file
it comes from, and the lines that carry the idea marked.

Used by the Convolution math chapter (and by any chapter that shows package
code).
"""

import ast
import importlib
import inspect
import pathlib
import textwrap

__all__ = ["CodeListing", "code_listing"]

_PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[2]  # the folder that holds cnn_tutor/


class CodeListing:
    """Source code of package functions, ready to display; made by :func:`code_listing`.

    Attributes
    ----------
    code : str
        The code shown: each object's header comment and its source, docstrings left out.
    highlighted : tuple of int
        The 1-based line numbers of ``code`` that are marked.
    """

    def __init__(self, code, highlighted=()):
        self.code = code
        self.highlighted = tuple(highlighted)

    def __repr__(self):
        return self.code

    def __str__(self):
        return self.code

    def _repr_html_(self):
        import pygments
        import pygments.formatters
        import pygments.lexers

        formatter = pygments.formatters.HtmlFormatter(
            noclasses=True, style="default", hl_lines=list(self.highlighted), nobackground=False
        )
        body = pygments.highlight(self.code, pygments.lexers.PythonLexer(), formatter)
        return f'<div class="cnn-tutor-listing" style="overflow-x: auto; font-size: 0.9em">{body}</div>'


def _resolve(index, obj):
    if isinstance(obj, str):
        parts = obj.split(".")
        for split in range(len(parts), 0, -1):
            try:
                target = importlib.import_module(".".join(parts[:split]))
            except ImportError:
                continue
            try:
                for attribute in parts[split:]:
                    target = getattr(target, attribute)
            except AttributeError:
                break
            return target
        raise ValueError(
            f"`objects[{index}]` must name an importable function or class, such as "
            f"'cnn_tutor.ops.conv.conv2d'; received {obj!r}, which does not resolve."
        )
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(
            f"`objects[{index}]` must be a function, a class, a method or a dotted name; "
            f"received {type(obj).__name__}. Pass the function itself, for example `ops.conv2d`."
        )
    return obj


def _docstring_lines(tree):
    """1-based line numbers of every docstring of a function or class in ``tree``."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def _source(obj, keep_docstrings):
    """``(path relative to the repository, code lines, whether docstrings were dropped)``."""
    obj = inspect.unwrap(obj)
    try:
        lines, _ = inspect.getsourcelines(obj)
        path = pathlib.Path(inspect.getsourcefile(obj)).resolve()
    except (OSError, TypeError) as error:
        raise ValueError(f"The source of {obj!r} is not available ({error}); only Python code can be shown.") from None
    source = textwrap.dedent("".join(lines))
    drop = set() if keep_docstrings else _docstring_lines(ast.parse(source))
    kept = [line.rstrip("\n") for number, line in enumerate(source.splitlines(True), start=1) if number not in drop]
    try:
        shown = path.relative_to(_PACKAGE_ROOT).as_posix()
    except ValueError:
        shown = path.name
    return shown, kept, bool(drop)


def code_listing(*objects, docstrings=False, highlight=()):
    """Show the source of package functions or classes, highlighted, without their docstrings.

    Parameters
    ----------
    *objects : object or str
        Functions, classes or methods to show, in order: the objects themselves (``ops.conv2d``) or
        dotted names (``"cnn_tutor.ops._common.windows"``, for private
        helpers).
    docstrings : bool
        Keep the docstrings (default: leave them out; the API reference has
        them).
    highlight : str or sequence of str
        Lines that contain any of these strings are marked: the lines that
        carry the idea.

    Returns
    -------
    CodeListing
        Displayed as highlighted HTML in a notebook and in the built book, as
        plain text in a console; ``.code`` holds the text.

    Raises
    ------
    ValueError
        No objects, a name that does not resolve, code without source, or a
        ``highlight`` string that matches no line.
    TypeError
        Something that is not a function, class, method or name.

    Examples
    --------
    >>> from cnn_tutor import shapes
    >>> listing = code_listing(shapes.effective_kernel_size, highlight="return")
    >>> print(listing.code.splitlines()[0])
    # cnn_tutor/shapes.py (docstring left out)
    >>> '"' * 3 in listing.code
    False
    >>> listing.highlighted == tuple(i for i, line in enumerate(listing.code.splitlines(), 1) if "return" in line)
    True
    """
    if not objects:
        raise ValueError("`objects` must name at least one function or class to show; received none.")
    if isinstance(highlight, str):
        highlight = (highlight,)
    highlight = tuple(highlight)
    for pattern in highlight:
        if not isinstance(pattern, str) or not pattern:
            raise TypeError(f"`highlight` must hold non-empty strings; received {pattern!r}.")
    code_lines, headers = [], set()
    for index, obj in enumerate(objects):
        path, kept, dropped = _source(_resolve(index, obj), docstrings)
        if code_lines:
            code_lines.append("")
        headers.add(len(code_lines) + 1)
        code_lines.append(f"# {path}" + (" (docstring left out)" if dropped else ""))
        code_lines.extend(kept)
    marked = [number for number, line in enumerate(code_lines, start=1)
              if number not in headers and any(pattern in line for pattern in highlight)]
    unused = [pattern for pattern in highlight if not any(pattern in code_lines[n - 1] for n in marked)]
    if unused:
        raise ValueError(f"`highlight` strings must each match a line of the code shown; these match none: {unused!r}.")
    return CodeListing("\n".join(code_lines), marked)
