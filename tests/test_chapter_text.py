"""Checks of what the chapters say: every number in the prose has a source, code lines are short,
package code is shown with ``viz.code_listing``, solutions run, the article's terms appear.

**Numbers.**  Every number in a chapter's markdown must be one of:

1. printed by an earlier code cell of the same chapter (its committed output), within the
   printed rounding: the prose "0.39" matches an output 0.387, "13,600" matches 13,610,
   "66%" matches 0.656, "116 million" matches 115,605,504;
2. a literal in the source of the code cell just before or just after the markdown cell:
   a parameter of the experiment that the text describes ("noise of standard deviation 0.1"),
   which no rerun changes;
3. printed by another chapter that the same paragraph or table row links to
   (``{ref}`label``` or ``[text](chapter.ipynb)``): how the Preface and the FAQ quote
   other chapters;
4. declared a constant of the text in the same cell, visibly in its source and invisibly on
   the page, with an HTML comment: ``<!-- constants: 70,000 60,000 6 -->``.  Every declared
   value must occur in that cell.
5. exempt by a fixed rule: digits 0-9 outside math; integers below 100 inside math (a
   formula's literals); years 1940-2039; "2-D"-style words; numbers that follow "section",
   "claim", "question" or "Q" (references, such as "section 4.2" of the source article or
   "claims 9, 10"); a bare number in the first column of a table row (a row number); text in
   inline code, code blocks, labels, roles and link targets.

A rerun that changes a printed figure therefore fails here until the prose follows.

**Code lines.**  No line of a code cell is longer than 100 characters.

**Listings.**  No chapter ``literalinclude``s package code: Jupyter and Colab show the
directive as raw text.  Chapters call ``cnn_tutor.viz.code_listing`` instead.

**Solutions.**  An exercise solution that holds code is a code cell between sphinx-exercise's
gated ``solution-start`` and ``solution-end``, so that it runs with the chapter and nbval checks
it; a ``{solution}`` directive holds prose only.

**Terms.**  Every Chinese term of the glossary's table of the article's terms appears in the
chapter that the row links to, where the English term is introduced.

Run this file as a script to print every finding of every chapter.
"""

import collections
import json
import pathlib
import re
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]

MAX_LINE = 100


def _toc_entries():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            entries.append(chapter["file"])
            entries.extend(section["file"] for section in chapter.get("sections", []))
    return entries


def _path(entry):
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{entry}{suffix}").exists():
            return ROOT / f"{entry}{suffix}"
    raise FileNotFoundError(f"_toc.yml lists {entry!r}, but neither {entry}.ipynb nor {entry}.md exists")


Cell = collections.namedtuple("Cell", "kind source outputs")


def _cells(entry):
    path = _path(entry)
    if path.suffix == ".md":
        return [Cell("markdown", path.read_text(encoding="utf-8"), "")]
    cells = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        outputs = []
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                outputs.append("".join(output["text"]))
            elif "data" in output and "text/plain" in output["data"]:
                outputs.append("".join(output["data"]["text/plain"]))
        cells.append(Cell(cell["cell_type"], source, "\n".join(outputs)))
    return cells


# --- numbers ------------------------------------------------------------------

Token = collections.namedtuple("Token", "text low high in_math")

_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"(?P<dims>(?:x\d+(?:\.\d+)?)*)"
    r"(?P<after>\s*(?:%|\\%|thousand\b|million\b|billion\b)|-[Dd]\b|[A-Za-z_]*)"
)
_UNITS = {"", "x", "ms", "s", "dB", "bpp", "px", "th", "st", "nd", "rd", "k", "M", "KB", "MB", "GB", "MiB", "GiB"}


def _interval(text, scale=1.0):
    """The values that print as ``text``: [value - half a unit of the last digit, value + half]."""
    plain = text.replace(",", "")
    value = float(plain)
    mantissa = plain.lower().split("e")[0]
    if "." in mantissa:
        unit = 10.0 ** -len(mantissa.split(".")[1])
    else:
        digits = mantissa.lstrip("0") or "0"
        zeros = len(digits) - len(digits.rstrip("0"))
        # "13,600" is 13,610 rounded; "20" or "100" (one significant digit) is exact.
        unit = 10.0 ** zeros if len(digits) - zeros >= 2 else 1.0
    if "e" in plain.lower():
        unit *= 10.0 ** int(plain.lower().split("e")[1])
    half = unit / 2 * (1 + 1e-9)
    return (value - half) * scale, (value + half) * scale


def _tokens(text, in_math=False):
    """Every number in ``text`` as a Token (dimensions such as 28x28 give one token per number)."""
    found = []
    for match in _NUMBER.finditer(text.replace("{,}", ",")):
        after = match.group("after").strip()
        if re.fullmatch(r"-[Dd]", after):
            continue
        if after and not (after in ("%", "\\%") or after in _SCALE or after in _UNITS):
            continue                                   # part of a word or a name: conv2d, 3rd-party...
        scale = 0.01 if after in ("%", "\\%") else _SCALE.get(after, 1.0)
        numbers = [match.group("num")] + [d for d in match.group("dims").split("x") if d]
        for number in numbers:
            low, high = _interval(number, scale)
            found.append(Token(number + (after if after in ("%", "\\%") or after in _SCALE else ""), low, high, in_math))
    return found


def _exempt(token):
    plain = token.text.replace(",", "")
    if not re.fullmatch(r"\d+", plain):
        return False
    value = int(plain)
    if token.in_math:
        return value < 100
    return value < 10 or (len(plain) == 4 and 1940 <= value <= 2039)


def _values(text):
    """The numbers an output shows, each as the interval of values that print that way."""
    return [(token.low, token.high) for token in _tokens(text)]


def _code_values(source):
    """Literals of a code cell, as exact values (intervals of width 0)."""
    values = []
    for match in re.finditer(r"(?<![\w.])(\d+(?:_\d{3})+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])", source):
        value = float(match.group(1).replace("_", ""))
        values.append((value, value))
    return values


_REFERENCE = re.compile(
    r"\b(?:[Ss]ections?|[Cc]laims?|[Qq]uestions?|Q)\s*\d+(?:\.\d+)*(?:\s*(?:-|,|and|to)\s*\d+(?:\.\d+)*)*"
)
_DECLARATION = re.compile(r"<!--\s*constants:(.*?)-->", re.S)
_ROLE = re.compile(r"\{(?:ref|eq|cite|cite:\w+|numref|doc|download|term)\}`[^`]*`")
_LINK_TARGET = re.compile(r"\]\(([^)\s]*)\)")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)


def _strip_markdown(text):
    """``(prose, math)``: the text with code, labels, roles and link targets removed, and its math."""
    text = _DECLARATION.sub("", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    math_parts = []

    def fence(match):
        info, body = match.group("info").strip(), match.group("body")
        name = re.match(r"\{([\w-]+)\}", info)
        if name is None:
            return "\n"                              # a code block
        if name.group(1) in ("math",):
            math_parts.append(re.sub(r"^:\w+:.*$", "", body, flags=re.M))
            return "\n"
        if name.group(1) in ("code-block", "code-cell", "literalinclude", "eval-rst", "bibliography"):
            return "\n"
        return re.sub(r"^:[\w-]+:.*$", "", fence_free(body), flags=re.M)   # exercise, solution, note...

    def fence_free(body):
        return _FENCE.sub(fence, body)

    text = fence_free(text)
    text = re.sub(r"(?:^|\n\s*\n)((?:(?: {4}|\t)[^\n]*\n?)+)", "\n\n", text)     # indented code blocks
    text = _REFERENCE.sub(" ", text)
    text = re.sub(r"^(\s*\|)\s*\d+\s*\|", r"\1 |", text, flags=re.M)                  # row numbers
    text = re.sub(r"^\([\w-]+\)=\s*$", "", text, flags=re.M)
    text = _ROLE.sub("", text)
    text = _LINK_TARGET.sub("]", text)
    text = re.sub(r"https?://\S+", "", text)
    text = re.sub(r"`[^`\n]*`", "", text)

    def display(match):
        math_parts.append(re.sub(r"\\label\{[^}]*\}", "", match.group(1)))
        return " "

    text = re.sub(r"\$\$(.*?)\$\$(?:\s*\([\w-]+\))?", display, text, flags=re.S)
    text = re.sub(r"(?<!\\)\$([^$\n]+?)\$", display, text)
    return text, math_parts


def _normalise_math(math):
    math = re.sub(r"\\t?frac(\d)(\d)", r"\\frac{\1}{\2}", math)
    math = re.sub(r"\\(?:log|sqrt|mathbb|mathrm|text|operatorname)_?\{?", " ", math)
    return math


def _blocks(text):
    """Paragraphs, with each table row a block of its own."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.splitlines()
        if lines and all(line.lstrip().startswith("|") for line in lines if line.strip()):
            blocks.extend(lines)
        else:
            blocks.append(paragraph)
    return blocks


def _labels():
    """Which chapter each ``(label)=`` and ``:label:`` belongs to."""
    owner = {}
    for entry in _toc_entries():
        for cell in _cells(entry):
            if cell.kind == "markdown":
                for label in re.findall(r"^\(([\w-]+)\)=\s*$", cell.source, re.M):
                    owner[label] = entry
                for label in re.findall(r"^:label:\s*(\S+)\s*$", cell.source, re.M):
                    owner[label] = entry
    return owner


def _linked_chapters(block, owner, here):
    linked = set()
    for label in re.findall(r"\{(?:ref|numref)\}`(?:[^`<]*<)?([\w-]+)>?`", block):
        if label in owner and owner[label] != here:
            linked.add(owner[label])
    for target in re.findall(r"\]\(([\w-]+)\.(?:ipynb|md)(?:#[^)]*)?\)", block):
        entry = f"book/{target}"
        if entry != here:
            linked.add(entry)
    return linked


def _matches(token, values):
    """Whether some printed value, at its own precision, rounds to the prose number."""
    return any(token.low <= low and high <= token.high for low, high in values)


def number_findings(entry, owner=None, outputs_of=None):
    """``[(cell index, number, context)]``: the prose numbers of ``entry`` with no source."""
    owner = _labels() if owner is None else owner
    outputs_of = {} if outputs_of is None else outputs_of

    def outputs(chapter):
        if chapter not in outputs_of:
            outputs_of[chapter] = [v for cell in _cells(chapter) if cell.kind == "code" for v in _values(cell.outputs)]
        return outputs_of[chapter]

    cells = _cells(entry)
    findings = []
    earlier = []
    for index, cell in enumerate(cells):
        if cell.kind == "code":
            earlier.extend(_values(cell.outputs))
            continue
        if cell.kind != "markdown":
            continue
        code = [c for c in cells[:index][::-1] if c.kind == "code"][:1] + [c for c in cells[index + 1:] if c.kind == "code"][:1]
        literals = [v for c in code for v in _code_values(c.source)]
        declared = [Token(t, *_interval(t.rstrip("%")), False) for d in _DECLARATION.findall(cell.source) for t in d.split()]
        used = set()
        for block in _blocks(cell.source):
            prose, maths = _strip_markdown(block)
            tokens = _tokens(prose) + [t for m in maths for t in _tokens(_normalise_math(m), in_math=True)]
            elsewhere = [v for chapter in _linked_chapters(block, owner, entry) for v in outputs(chapter)]
            for token in tokens:
                if _exempt(token) or _matches(token, earlier) or _matches(token, literals) or _matches(token, elsewhere):
                    continue
                hits = [d for d in declared if d.text.replace(",", "") == token.text.replace(",", "").rstrip("%")
                        or d.text == token.text]
                if hits:
                    used.update(d.text for d in hits)
                    continue
                context = " ".join(block.split())
                at = max(context.find(token.text.rstrip("%").split("\\")[0]), 0)
                findings.append((index, token.text, context[max(0, at - 50): at + 50]))
        for unused in sorted({d.text for d in declared} - used):
            findings.append((index, unused, "declared a constant in <!-- constants: --> but not needed or not used"))
    return findings


# --- code lines and listings -----------------------------------------------

def long_lines(entry):
    """``[(cell index, length, line)]`` of code-cell lines longer than MAX_LINE."""
    return [
        (index, len(line), line)
        for index, cell in enumerate(_cells(entry)) if cell.kind == "code"
        for line in cell.source.splitlines() if len(line) > MAX_LINE
    ]


def package_includes(entry):
    """``[(cell index, directive)]`` of ``literalinclude``s of package code."""
    return [
        (index, match.group(0))
        for index, cell in enumerate(_cells(entry)) if cell.kind == "markdown"
        for match in re.finditer(r"\{literalinclude\}\s*\S*cnn_tutor/\S+", cell.source)
    ]


def unexecuted_solutions(entry):
    """``[(cell index, label)]`` of ``{solution}`` directives whose body holds code."""
    found = []
    for index, cell in enumerate(_cells(entry)):
        if cell.kind != "markdown":
            continue
        for match in _FENCE.finditer(cell.source):
            head = re.match(r"\{solution\}\s*(\S+)", match.group("info").strip())
            body = match.group("body")
            if head and (re.search(r"^\s*(```|~~~)", body, re.M) or re.search(r"(?:^|\n)\n(?: {4}|\t)\S", body)):
                found.append((index, head.group(1)))
    return found


def _article_terms():
    """``[(english, chinese terms, label)]`` of the glossary's table of the article's terms."""
    text = _path("book/glossary").read_text(encoding="utf-8")
    table = text.split("(glossary-article)=", 1)[1].split("(glossary-book)=", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) != 4 or cells[0] in ("English", "---") or set(cells[0]) <= set("-"):
            continue
        chinese = re.sub(r"\([^)]*\)", "", cells[1])            # "(usually 图像修复)", "(滤波器)" are notes
        terms = [term.strip() for term in re.split(r"[,，]", chinese) if term.strip()]
        label = re.fullmatch(r"\{ref\}`(?:[^`<]*<)?([^`<>]+)>?`", cells[3]).group(1)
        rows.append((cells[0], terms, label))
    return rows


# --- tests ---------------------------------------------------------------------

ENTRIES = _toc_entries()


def _param(entry):
    return pytest.param(entry, id=entry.split("/")[-1])


@pytest.fixture(scope="module")
def owner():
    return _labels()


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_every_number_in_the_prose_has_a_source(entry, owner):
    findings = number_findings(entry, owner)
    assert not findings, "numbers with no earlier output, code literal, linked chapter or declaration:\n" + "\n".join(
        f"  cell {index}: {number!r} in '...{context}...'" for index, number, context in findings
    )


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_code_lines_are_at_most_100_characters(entry):
    found = long_lines(entry)
    assert not found, "\n".join(f"  cell {index}: {length} characters: {line.strip()[:80]}..." for index, length, line in found)


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_package_code_is_shown_with_code_listing_not_literalinclude(entry):
    assert not package_includes(entry)


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_solutions_with_code_are_executed_cells(entry):
    found = unexecuted_solutions(entry)
    assert not found, f"{{solution}} directives with code (make them gated solution-start/-end cells): {found}"


def test_the_diffusion_target_quotes_the_dcgan_fd_the_generation_chapter_printed():
    # the diffusion chapter cannot afford to train the DCGAN again, so its FD target is the
    # Generation chapter's printed figure, written into the code: a rerun that moves it fails here
    printed = re.findall(r"^DCGAN: classifier score [\d.]+, FD ([\d.]+)$",
                         "\n".join(c.outputs for c in _cells("book/generation")), re.M)
    quoted = re.findall(r"^DCGAN_FD = ([\d.]+)", "\n".join(c.source for c in _cells("book/diffusion")), re.M)
    assert len(printed) == 1 and len(quoted) == 1, (printed, quoted)
    assert float(quoted[0]) == float(printed[0]), (
        f"book/diffusion.ipynb sets DCGAN_FD = {quoted[0]}, the Generation chapter prints FD {printed[0]}"
    )


def _term_param(row):
    english, terms, label = row
    return pytest.param(english, terms, label, id=english)


@pytest.mark.parametrize(("english", "terms", "label"), [_term_param(row) for row in _article_terms()])
def test_every_article_term_appears_in_the_chapter_that_introduces_it(english, terms, label):
    chapter = _labels().get(label)
    assert chapter, f"{english}: the glossary links {label!r}, which no chapter defines"
    prose = "\n".join(cell.source for cell in _cells(chapter) if cell.kind == "markdown")
    missing = [term for term in terms if term not in prose]
    assert not missing, f"{english}: {missing} do not appear in {chapter}"


# --- the checker itself, on hand-made cases ------------------------------------

@pytest.mark.parametrize(
    ("prose", "printed", "ok"),
    [
        ("the median is 0.39", "median 0.3875", True),
        ("the median is 0.39", "median 0.3849", False),
        ("about 13,600 parameters", "13,610 parameters", True),
        ("about 13,600 parameters", "13,660 parameters", False),
        ("a share of 66%", "0.656", True),
        ("a share of 0.66", "65.6%", True),
        ("116 million multiply-adds", "115,605,504", True),
        ("a 28x28 digit", "(None, 28, 28, 1)", True),
        ("a 28x27 digit", "(None, 28, 28, 1)", False),
        ("4.4e-16 here", "4.4e-16", True),
        ("20 runs", "23 runs", False),
        ("at 3.70", "3.7", False),                           # the prose may not be more precise than the output
    ],
)
def test_a_prose_number_matches_an_output_within_its_rounding(prose, printed, ok):
    values = _values(printed)
    tokens = [t for t in _tokens(_strip_markdown(prose)[0]) if not _exempt(t)]
    assert tokens
    assert all(_matches(t, values) for t in tokens) == ok


@pytest.mark.parametrize(
    ("markdown", "numbers"),
    [
        ("see {ref}`faq-q1` and [the code](https://x.org/a/2021/12)", []),
        ("use `conv2d(x, k, strides=22)` and float32", []),
        ("a 2-D image, in 2019, with 7 filters", []),
        ("$10 \\log_{10}(1/x)$ and $1 - 0.95^4 = 0.185$", ["0.95", "0.185"]),
        ("$25{,}088 \\times 144$", ["25,088", "144"]),
        ("```python\nx = 12345\n```\nthe 0.25 share", ["0.25"]),
        ("```{solution} a-b\n:label: c-12\nfound 0.75\n```", ["0.75"]),
        ("<!-- constants: 70,000 -->all 70,000 digits", ["70,000"]),
        ("section 4.2 of the article, sections 4.1-4.3, claims 9, 10 and 12, Q5", []),
        ("the code:\n\n    print(f(55))\n\nprints 27", ["27"]),
        ("| 12 | the article says 12.5 |", ["12.5"]),
    ],
)
def test_what_counts_as_a_prose_number(markdown, numbers):
    prose, maths = _strip_markdown(markdown)
    tokens = _tokens(prose) + [t for m in maths for t in _tokens(_normalise_math(m), in_math=True)]
    assert [t.text for t in tokens if not _exempt(t)] == numbers


if __name__ == "__main__":
    owner_map, cache = _labels(), {}
    for chapter in ENTRIES:
        numbers = number_findings(chapter, owner_map, cache)
        lines, includes = long_lines(chapter), package_includes(chapter)
        solutions = unexecuted_solutions(chapter)
        if not (numbers or lines or includes or solutions):
            continue
        print(f"## {chapter}: {len(numbers)} numbers, {len(lines)} long lines,"
              f" {len(includes)} literalincludes, {len(solutions)} solutions with code")
        for index, number, context in numbers:
            print(f"  number  cell {index:3d}  {number:>12}  ...{context}...")
        for index, length, line in lines:
            print(f"  line    cell {index:3d}  {length} chars: {line.strip()[:90]}")
        for index, directive in includes:
            print(f"  include cell {index:3d}  {directive}")
        for index, label in solutions:
            print(f"  solution cell {index:3d}  {label} holds code")
    for english, terms, label in _article_terms():
        prose = "\n".join(c.source for c in _cells(owner_map.get(label, "book/glossary")) if c.kind == "markdown")
        missing = [term for term in terms if term not in prose]
        if missing:
            print(f"## term {english!r}: {missing} not in {owner_map.get(label)} ({label})")
    sys.exit(0)
