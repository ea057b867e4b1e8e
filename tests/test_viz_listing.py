"""Tests of cnn_tutor.viz.code_listing: the package's source as a chapter shows it."""

import ast
import html
import inspect
import re
import textwrap

import pytest

from cnn_tutor import ops, shapes, viz
from cnn_tutor.ops import _common


def _code_lines(listing):
    return listing.code.splitlines()


def test_listing_shows_the_code_without_the_docstring():
    listing = viz.code_listing(ops.conv2d)
    lines = _code_lines(listing)
    assert lines[0] == "# cnn_tutor/ops/conv.py (docstring left out)"
    assert lines[1].startswith("def conv2d(images, kernels, *,")
    assert lines[-1].strip() == "return np.tensordot(patches, kernels, axes=3)"
    assert '"""' not in listing.code and "Parameters" not in listing.code
    # Everything but the docstring is there, line for line.
    source = textwrap.dedent(inspect.getsource(ops.conv2d))
    docstring = ast.get_docstring(ast.parse(source).body[0], clean=False)
    assert docstring and docstring.strip().splitlines()[0] not in listing.code
    code_only = [line for line in source.splitlines() if line.strip() and line.strip() not in docstring]
    assert [line for line in lines[1:] if line.strip()] == [line for line in code_only if '"""' not in line]


def test_listing_of_several_objects_names_each_file_and_accepts_dotted_names():
    listing = viz.code_listing(ops.conv2d, "cnn_tutor.ops._common.windows")
    headers = [line for line in _code_lines(listing) if line.startswith("# cnn_tutor/")]
    assert headers == ["# cnn_tutor/ops/conv.py (docstring left out)", "# cnn_tutor/ops/_common.py (docstring left out)"]
    assert "sliding_window_view" in listing.code
    assert viz.code_listing(_common.windows).code == viz.code_listing("cnn_tutor.ops._common.windows").code


def test_listing_can_keep_the_docstring():
    listing = viz.code_listing(shapes.effective_kernel_size, docstrings=True)
    assert listing.code.splitlines()[0] == "# cnn_tutor/shapes.py"
    assert inspect.getdoc(shapes.effective_kernel_size).splitlines()[0] in listing.code


def test_highlighted_lines_are_the_ones_that_match_and_are_marked_in_the_html():
    listing = viz.code_listing(ops.conv2d, "cnn_tutor.ops._common.windows", highlight=["tensordot", "sliding_window_view"])
    lines = _code_lines(listing)
    assert [lines[n - 1].strip().split("(")[0] for n in listing.highlighted] == [
        "return np.tensordot",
        "view = np.lib.stride_tricks.sliding_window_view",
    ]
    page = listing._repr_html_()
    # Inline styles (no stylesheet): each marked line is wrapped in a span with a background colour.
    marked = re.findall(r'<span style="background-color: [^"]+">(.*?)\n</span>', page, re.S)
    assert len(marked) == 2
    texts = [html.unescape(re.sub(r"<[^>]+>", "", segment)).strip() for segment in marked]
    assert texts == [lines[n - 1].strip() for n in listing.highlighted]


def test_html_is_highlighted_inline_and_holds_the_same_text():
    listing = viz.code_listing(ops.conv2d)
    page = listing._repr_html_()
    assert page.startswith('<div class="cnn-tutor-listing"') and "<pre" in page
    assert 'style="color:' in page                      # inline colours: no stylesheet needed in Jupyter or Colab
    assert "<link" not in page and "<script" not in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert listing.code in text
    assert repr(listing) == str(listing) == listing.code


def test_code_without_a_source_file_is_refused():
    namespace = {}
    exec("def made_at_run_time():\n    return 1\n", namespace)
    with pytest.raises(ValueError, match="only Python code can be shown"):
        viz.code_listing(namespace["made_at_run_time"])


def test_a_class_loses_the_docstrings_of_its_methods_too():
    class Example:
        """Class docstring."""

        def method(self):
            """Method docstring."""
            return 1

    code = viz.code_listing(Example).code
    assert "docstring" not in code.replace("(docstring left out)", "")
    assert "return 1" in code


@pytest.mark.parametrize(
    ("objects", "kwargs", "error", "message"),
    [
        ((), {}, ValueError, "at least one function or class"),
        (("cnn_tutor.ops.no_such_function",), {}, ValueError, r"`objects\[0\]` must name an importable .* 'cnn_tutor.ops.no_such_function'"),
        ((3,), {}, TypeError, r"`objects\[0\]` must be a function, a class, a method or a dotted name; received int"),
        ((ops.conv2d,), {"highlight": ["no such line"]}, ValueError, r"these match none: \['no such line'\]"),
        ((ops.conv2d,), {"highlight": [""]}, TypeError, "non-empty strings"),
        ((len,), {}, TypeError, "received builtin_function_or_method"),
    ],
)
def test_listing_errors(objects, kwargs, error, message):
    with pytest.raises(error, match=message):
        viz.code_listing(*objects, **kwargs)
