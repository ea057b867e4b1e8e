"""Checks of the book: its table of contents, its notebooks, and the built HTML in a browser.

The structural checks run with the package tests. The browser check
(marker ``browser``) needs the built book in ``_build/html`` (``make test``
builds it first) and Debian's ``chromium``.
"""

import contextlib
import functools
import http.server
import json
import os
import pathlib
import re
import shutil
import threading
from html import unescape

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
NOISE = re.compile(r"^(I|W|E)0000 |absl::InitializeLog|oneDNN custom operations|cudart_stub|Could not find cuda drivers", re.M)


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.append(chapter["file"])
            files.extend(section["file"] for section in chapter.get("sections", []))
    return files


def _source(entry):
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{entry}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"_toc.yml lists {entry!r}, but neither {entry}.ipynb nor {entry}.md exists")


CHAPTERS = [_source(entry) for entry in _toc_files()]
NOTEBOOKS = [path for path in CHAPTERS if path.suffix == ".ipynb"]


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _code_cells(path):
    return [cell for cell in _cells(path) if cell["cell_type"] == "code" and "".join(cell["source"]).strip()]


def test_every_notebook_in_book_is_in_the_table_of_contents():
    on_disk = {path for path in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts}
    assert on_disk == set(NOTEBOOKS)


def _colab_cell():
    """The Colab cell as CONTRIBUTING.md gives it: the first ```python block after "The Colab cell"."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)\n\s*```", text[text.index("The Colab cell"):], re.S).group(1)
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


def test_the_colab_cell_installs_from_the_configured_repository_and_keeps_tensorflow():
    cell = _colab_cell()
    url = _config()["repository"]["url"]
    assert 'find_spec("cnn_tutor") is None' in cell
    assert f"cnn-tutor @ git+{url}" in cell
    assert '"-c", str(keep)' in cell and 'for name in ("tensorflow", "keras")' in cell
    assert "check=True" not in cell and "raise RuntimeError" in cell
    assert all(len(line) <= 100 for line in cell.splitlines())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_colab_cell_of_contributing(path):
    first = _code_cells(path)[0]
    assert "".join(first["source"]) == _colab_cell(), (
        "the first code cell differs from CONTRIBUTING.md's Colab cell: rewrite it in every chapter"
    )
    assert "hide-input" in first["metadata"].get("tags", []) and first["outputs"] == []


_FAKE_PIP = """#!{python}
import json, sys
arguments = sys.argv[1:]
constraints = open(arguments[arguments.index("-c") + 1]).read().split()
json.dump({{"arguments": arguments, "constraints": constraints}}, open({log!r}, "w"))
sys.stderr.write({stderr!r})
sys.exit({status})
"""


def _run_colab_cell(tmp_path, monkeypatch, *, installed, status, stderr=""):
    """Run the Colab cell here, with `cnn_tutor` missing (or not) and a stand-in for `python -m pip`."""
    import importlib.util
    import sys

    log = tmp_path / "pip.json"
    fake = tmp_path / "python"
    fake.write_text(_FAKE_PIP.format(python=sys.executable, log=str(log), stderr=stderr, status=status))
    fake.chmod(0o755)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: (real_find_spec(name, *args) if installed or name != "cnn_tutor" else None))
    monkeypatch.setattr(sys, "executable", str(fake))
    exec(compile(_colab_cell(), "colab-cell", "exec"), {})
    return json.loads(log.read_text()) if log.exists() else None


def test_colab_cell_pins_the_installed_tensorflow_and_keras(tmp_path, monkeypatch):
    from importlib import metadata

    call = _run_colab_cell(tmp_path, monkeypatch, installed=False, status=0)
    assert call["arguments"][:4] == ["-m", "pip", "install", "-q"]
    assert call["arguments"][-1] == f"cnn-tutor @ git+{_config()['repository']['url']}"
    expected = [f"keras=={metadata.version('keras')}"]
    try:
        expected.insert(0, f"tensorflow=={metadata.version('tensorflow')}")
    except metadata.PackageNotFoundError:  # tensorflow-cpu: nothing named tensorflow to pin
        pass
    assert call["constraints"] == expected


def test_colab_cell_stops_with_pips_reason(tmp_path, monkeypatch):
    reason = "ERROR: ResolutionImpossible: cnn-tutor requires tensorflow<2.22, the user requested tensorflow==2.99.0\n"
    with pytest.raises(RuntimeError, match=r"Installing cnn_tutor failed \(pip exit status 1\):\n.*ResolutionImpossible"):
        _run_colab_cell(tmp_path, monkeypatch, installed=False, status=1, stderr=reason)


def test_colab_cell_does_nothing_where_the_package_is_installed(tmp_path, monkeypatch):
    assert _run_colab_cell(tmp_path, monkeypatch, installed=True, status=1) is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_second_code_cell_sets_up_before_tensorflow_is_imported(path):
    setup = "".join(_code_cells(path)[1]["source"])
    lines = [line.strip() for line in setup.splitlines() if line.strip() and not line.startswith("#")]
    # setup() may take cpu_devices=N (the future-directions chapter splits the CPU for tf.distribute).
    calls = [i for i, line in enumerate(lines) if re.fullmatch(r"rt = cnn_tutor\.setup\((cpu_devices=\d+)?\)", line)]
    assert calls, "the set-up cell calls `rt = cnn_tutor.setup()`"
    before = lines[: calls[0]]
    assert not any(re.match(r"(import|from) (tensorflow|keras)\b", line) for line in before)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_outputs_come_from_one_clean_in_order_run(path):
    cells = _code_cells(path)
    counts = [cell["execution_count"] for cell in cells]
    assert None not in counts, "some code cells have no outputs from a run"
    assert counts == list(range(1, len(counts) + 1)), f"cells not executed top to bottom in one run: {counts}"
    for cell in cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"an error output in cell {cell['execution_count']}"
            text = "".join(output.get("text", ""))
            assert output.get("name") != "stderr", f"stderr output in cell {cell['execution_count']}: {text[:200]}"
            assert not NOISE.search(text), f"TensorFlow log lines in cell {cell['execution_count']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_the_python3_kernel(path):
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_has_a_label_and_title(path):
    if path.suffix == ".ipynb":
        text = "".join(_cells(path)[0]["source"])
    else:
        text = path.read_text(encoding="utf-8")
    assert re.match(r"\(\S+\)=\n# \S", text), "a chapter starts with a `(label)=` line and a `# Title`"


def test_every_citation_resolves():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    cited = set()
    for path in CHAPTERS:
        text = path.read_text(encoding="utf-8")
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
            cited.update(key.strip() for key in group.split(","))
    assert cited, "the chapters cite nothing"
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"
    # tests/test_references.py checks that each entry has a DOI, an arXiv id or a publisher URL.


# --- the built book in a real browser ---------------------------------------

# The browser: CNN_TUTOR_CHROMIUM (a Chromium executable, or "playwright" for Playwright's own
# build, `python -m playwright install chromium`), else the system's chromium on PATH, else
# Playwright's build if it is installed.
CHROMIUM = os.environ.get("CNN_TUTOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
_NO_BROWSER = (
    "Chromium is not installed (Debian: apt-get install chromium; Ubuntu: snap install chromium; "
    "or Playwright's build: python -m playwright install chromium)"
)


@contextlib.contextmanager
def _serve(directory):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature is the base class's
        pass


def _missing_browser(message):
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI must install it first")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` (or `make test`, which builds it) first")
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = None if CHROMIUM in (None, "playwright") else CHROMIUM
    with playwright_api.sync_playwright() as playwright:
        if executable is None and not pathlib.Path(playwright.chromium.executable_path).exists():
            _missing_browser(_NO_BROWSER)
        instance = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module")
def site():
    with _serve(HTML) as url:
        yield url


@pytest.mark.browser
@pytest.mark.parametrize("entry", _toc_files())
def test_page_renders_in_chromium(browser, site, entry):
    page = browser.new_page()
    problems = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("response", lambda response: problems.append(f"HTTP {response.status}: {response.url}") if response.status >= 400 else None)
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    try:
        page.goto(f"{site}/{entry}.html", wait_until="networkidle")
        page.wait_for_function("() => Array.from(document.images).every(image => image.complete)", timeout=30_000)
        broken = page.evaluate("() => Array.from(document.images).filter(i => i.naturalWidth === 0).map(i => i.src)")
        assert broken == [], f"images that did not load: {broken}"
        if page.evaluate("() => document.querySelectorAll('.math').length") > 0:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
            page.evaluate("() => MathJax.startup.promise")
            rendered = page.evaluate("() => document.querySelectorAll('mjx-container').length")
            assert rendered > 0, "the page has math, but MathJax rendered none of it"
            raw = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
            assert raw == 0, "MathJax reported errors in some formulas"
        assert page.query_selector(".dropdown-download-buttons") is not None, "no download button"
        if _source(entry).suffix == ".ipynb":
            links = page.evaluate("() => Array.from(document.querySelectorAll('.dropdown-launch-buttons a')).map(a => a.href)")
            assert any("colab.research.google.com" in link for link in links), f"no Colab launch button: {links}"
            assert any("mybinder.org" in link for link in links), f"no Binder launch button: {links}"
            outputs = page.evaluate("() => document.querySelectorAll('.cell_output').length")
            assert outputs > 0, "a notebook chapter without outputs in the HTML"
        assert problems == []
    finally:
        page.close()


# --- the Execution statistics page ---------------------------------------------

RESULTS = sorted((ROOT / "book" / "_results").glob("*.json"))


def test_the_statistics_page_has_results_files_for_chapters_of_this_book():
    from cnn_tutor import bench

    assert RESULTS, "book/_results/ holds no results file: run `python -m cnn_tutor.bench`"
    chapters = {pathlib.Path(entry).name for entry in _toc_files()}
    for path in RESULTS:
        results = bench.load_results(path)
        assert path.name == f"{results['profile']}-{results['device_key']}.json"
        stale = {entry["chapter"] for entry in results["chapters"]} - chapters
        assert not stale, f"{path.name} has results of chapters that are not in the book: {sorted(stale)}"


def _toy_results(profile, device_key, chapters):
    from cnn_tutor import bench

    entries = []
    for name, status, wall, figures in chapters:
        entry = {key: None for key in bench._results._CHAPTER_KEYS} | {
            "chapter": name, "title": name.title(), "status": status, "profile": profile, "wall_s": wall,
            "time_target_s": 60, "time_met": None if wall is None else wall <= 60, "device": f"{device_key} device",
            "device_kind": device_key, "backend": "jax" if device_key == "gpu" else "tensorflow", "cpu_model": "Toy CPU",
            "logical_cpus": 2, "versions": {"python": "3.11.7", "keras": "3.15.1"}, "figures": figures,
            "commit": "abc1234", "dirty": False,
        }
        if status == "projected":
            entry["projection"] = {"reason": "too long on 2 cores", "epoch_seconds": [10.0, 14.0], "epochs": 30,
                                   "fixed_seconds": 20.0, "projected_s": 380.0, "measured_with": "a probe"}
        if status == "failed":
            entry["error"] = "CellExecutionError: boom"
        entries.append(entry)
    return {"schema": bench.SCHEMA, "profile": profile, "device_key": device_key, "updated": "2026-12-01T00:00:00Z",
            "note": f"toy {profile} run", "chapters": entries}


def _figure(name, value, target=None, met=None, unit=""):
    return {"name": name, "value": value, "unit": unit, "target": target, "met": met}


def _sphinx_build(source, out):
    """sphinx-build -W in a fresh interpreter (Sphinx registers its nodes once per process)."""
    import subprocess
    import sys

    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", "html", str(source), str(out)],
                          capture_output=True, text=True, timeout=300, env=env)


def test_statistics_directive_renders_the_runs_side_by_side(tmp_path):
    """A small Sphinx project with the extension and two results files: every figure, target and verdict appears."""
    source = tmp_path / "src"
    (source / "book" / "_results").mkdir(parents=True)
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\nextensions = ['execution_stats']\n"
    )
    (source / "index.rst").write_text("Toy\n===\n\n.. toctree::\n\n   book/alpha\n   book/beta\n   book/stats\n")
    for name in ("alpha", "beta"):
        (source / "book" / f"{name}.rst").write_text(f"{name.title()}\n{'=' * len(name)}\n")
    (source / "book" / "stats.rst").write_text("Stats\n=====\n\n.. execution-statistics::\n")
    quick = _toy_results("quick", "cpu", [
        ("alpha", "ran", 12.34, [_figure("accuracy", 0.96123, ">= 0.95", True), _figure("ratio", 2.5)]),
        ("beta", "failed", None, [_figure("psnr", 17.5, ">= 18", False, "dB")]),
    ])
    full = _toy_results("full", "gpu", [("alpha", "projected", None, [])])
    for results in (full, quick):
        path = source / "book" / "_results" / f"{results['profile']}-{results['device_key']}.json"
        path.write_text(json.dumps(results))
    build = _sphinx_build(source, tmp_path / "html")
    assert build.returncode == 0, build.stderr[-3000:]
    html = (tmp_path / "html" / "book" / "stats.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    assert text.index("quick profile, CPU") < text.index("full profile, GPU")  # quick first, whatever the file order
    assert "12.3 s (target <= 60 s: met)" in text
    assert "0.9612 (target >= 0.95: met)" in text and " 2.5 " in text
    assert "17.5 dB (target >= 18: MISSED)" in text and "FAILED (CellExecutionError: boom)" in text
    assert ("projected 380 s: 12.0 s per epoch (measured over 2) x 30 epochs + 20.0 s; too long on 2 cores" in text)
    assert "not run" in text  # beta has no full-profile entry
    assert "cpu device" in text and "gpu device" in text and "jax" in text and "Keras 3.15.1" in text
    assert "toy quick run" in text and "Toy CPU (2 logical CPUs)" in text and "abc1234" in text
    assert 'href="alpha.html"' in html  # the chapters are linked
    assert html.count('class="execution-statistics') >= 5


def test_statistics_directive_refuses_a_malformed_results_file(tmp_path):
    source = tmp_path / "src"
    (source / "book" / "_results").mkdir(parents=True)
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\nextensions = ['execution_stats']\n"
    )
    (source / "index.rst").write_text("Stats\n=====\n\n.. execution-statistics::\n")
    (source / "book" / "_results" / "quick-cpu.json").write_text('{"schema": "other"}')
    build = _sphinx_build(source, tmp_path / "html")
    assert build.returncode != 0
    assert "quick-cpu.json is not a results file of `python -m cnn_tutor.bench`" in build.stderr


@pytest.mark.browser
def test_statistics_page_shows_every_chapter_of_every_run(browser, site):
    """The page the book builds from book/_results: one column per results file, one time per chapter."""
    from cnn_tutor import bench

    runs = [bench.load_results(path) for path in RESULTS]
    page = browser.new_page()
    try:
        page.goto(f"{site}/book/statistics.html", wait_until="networkidle")
        header = page.evaluate(
            "() => Array.from(document.querySelectorAll('table.execution-statistics-times thead th'))"
            ".map(th => th.innerText.trim())")
        assert header[1:] == [f"{r['profile']} profile, {r['device_key'].upper()}"
                              for r in sorted(runs, key=lambda r: (r["profile"] != "quick", r["device_key"]))]
        rows = page.evaluate(
            "() => Array.from(document.querySelectorAll('table.execution-statistics-times tbody tr'))"
            ".map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.innerText.trim()))")
        chapters = {entry["title"] for r in runs for entry in r["chapters"]}
        assert {row[0].replace("\u2019", "'") for row in rows} == chapters  # Sphinx's smart quotes
        assert page.locator("table.execution-statistics-chapter").count() == len(chapters)
    finally:
        page.close()
