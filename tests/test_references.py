"""Checks of the book's references, cross-references, glossary and FAQ.

``tests/test_book.py`` checks that every ``{cite}`` key is in ``references.bib``;
these tests check what the entries and the ``{ref}`` links point to.
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

DOI = re.compile(r"^10\.\d{4,9}/\S+$")
ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}$")
# A work with neither a DOI nor an arXiv version (a PMLR or JMLR paper) is cited
# by the stable URL of its publisher's page.
PUBLISHER_URL = re.compile(r"^https://(proceedings\.mlr\.press|jmlr\.org|www\.jmlr\.org|www\.itu\.int)/\S+$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _bib_entries():
    text = (BOOK / "references.bib").read_text(encoding="utf-8")
    entries = {}
    for chunk in re.split(r"\n(?=@)", text):
        match = re.match(r"\s*@(\w+)\{([^,]+),(.*)\}\s*$", chunk, re.S)
        if match:
            fields = dict(
                (name.lower(), value.strip())
                for name, value in re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?\s*$", match.group(3), re.M)
            )
            entries[match.group(2).strip()] = fields
    return entries


BIB = _bib_entries()


def test_the_bibliography_parses():
    assert len(BIB) >= 40, f"only {len(BIB)} entries parsed from references.bib"
    assert all("title" in fields and "year" in fields for fields in BIB.values())


def test_pybtex_reads_every_entry():
    """The parser the book build uses (sphinxcontrib-bibtex's pybtex) reads the file, entry for entry.

    An unclosed brace makes the regular expressions above merge two entries silently, while the
    build stops; this catches it without building the book.
    """
    pybtex = pytest.importorskip("pybtex.database")
    parsed = pybtex.parse_file(str(BOOK / "references.bib"))
    assert set(parsed.entries) == set(BIB), sorted(set(parsed.entries) ^ set(BIB))


@pytest.mark.parametrize("key", sorted(BIB))
def test_every_entry_has_a_doi_or_an_arxiv_id_or_a_publisher_url(key):
    fields = BIB[key]
    if "doi" in fields:
        assert DOI.match(fields["doi"]), f"{key}: malformed DOI {fields['doi']!r} (write it without https://doi.org/)"
    if "eprint" in fields:
        assert ARXIV_ID.match(fields["eprint"]), f"{key}: {fields['eprint']!r} is not an arXiv id such as 1603.07285"
        assert fields.get("archiveprefix", "").lower() == "arxiv", f"{key}: an eprint needs archiveprefix = {{arXiv}}"
    if "doi" not in fields and "eprint" not in fields:
        assert PUBLISHER_URL.match(fields.get("url", "")), (
            f"{key}: no DOI, no arXiv id, and no url of a publisher's page (proceedings.mlr.press, jmlr.org)"
        )


def _markdown_sources():
    """Every page of the book as (path, markdown text); notebooks contribute their markdown cells."""
    for path in sorted(BOOK.glob("*.md")):
        yield path, path.read_text(encoding="utf-8")
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        yield path, "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def _targets():
    targets = set()
    for _, text in _markdown_sources():
        targets.update(re.findall(r"^\((\S+)\)=\s*$", text, re.M))
        targets.update(re.findall(r"^:label:\s*(\S+)\s*$", text, re.M))  # exercises, figures
    return targets


def test_every_ref_resolves_to_a_label_in_the_book():
    targets = _targets()
    missing = []
    for path, text in _markdown_sources():
        for body in re.findall(r"\{ref\}`([^`]+)`", text):
            label = re.search(r"<([^>]+)>$", body)
            label = label.group(1) if label else body.strip()
            if label not in targets:
                missing.append(f"{path.name}: {label}")
    assert not missing, f"{{ref}} targets that no page defines: {sorted(set(missing))}"


def _glossary_rows():
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [row for row in rows if not row.startswith("| English")]


def test_glossary_gives_each_term_in_chinese_with_a_link_to_the_book():
    rows = _glossary_rows()
    assert len(rows) >= 60, f"only {len(rows)} glossary rows"
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert len(cells) == 4, f"a glossary row needs 4 columns (English, 中文, meaning, link): {row}"
        english, chinese, meaning, link = cells
        assert english and meaning, row
        assert CJK.search(chinese), f"no Chinese term for {english!r}"
        assert re.fullmatch(r"\{ref\}`[^`]+`", link), f"the last column of {english!r} must be one {{ref}} link"


ARTICLE_QUESTIONS = [
    "卷积神经网络与其他神经网络的区别",
    "卷积神经网络的优缺点",
    "卷积神经网络在图像生成与重建中的挑战",
    "卷积神经网络在图像生成与重建中的应用前景",
    "如何选择滤波器大小和步长",
    "如何处理图像中的噪声",
    "如何提高生成的图像质量",
    "如何减少计算开销",
]


def _faq_sections():
    cells = json.loads((BOOK / "faq.ipynb").read_text(encoding="utf-8"))["cells"]
    text = "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return re.split(r"^\(faq-q\d\)=$", text, flags=re.M)[1:]


def test_faq_answers_each_of_the_articles_eight_questions_with_evidence():
    sections = _faq_sections()
    assert len(sections) == len(ARTICLE_QUESTIONS), f"{len(sections)} question sections, the article has 8"
    for number, (question, section) in enumerate(zip(ARTICLE_QUESTIONS, sections), start=1):
        assert section.lstrip().startswith(f"## {number}. "), f"question {number}: heading"
        assert question in section, f"question {number}: the article's wording {question!r} is missing"
        assert "**The article**" in section and "**Answer.**" in section, f"question {number}: article, answer"
        evidence = section.split("**Evidence:**", 1)
        assert len(evidence) == 2, f"question {number}: no 'Evidence:' paragraph"
        assert re.search(r"\{ref\}`", evidence[1].split("\n\n")[0]), f"question {number}: evidence without a link"
