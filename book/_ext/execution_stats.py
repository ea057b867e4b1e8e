"""Sphinx extension: the ``execution-statistics`` directive, the book's page of what ran where.

The directive reads every results file that ``python -m cnn_tutor.bench``
wrote into ``book/_results/`` (one per profile and device; the format is
documented in :mod:`cnn_tutor.bench` and checked by
:func:`cnn_tutor.bench.load_results`) and renders, at build time:

- a table of the runs (profile, device, backend, CPU, versions, commit, note);
- a table of each chapter's execution time in every run, against its target;
- per chapter, the runs side by side: time, device, backend, versions, and
  every recorded figure with its target and verdict.

Nothing is typed: a new results file changes the page at the next build (the
page is rebuilt on every build, so added or removed files count too).  A
malformed file, or a chapter that is no longer in the book, is a build error.
Loaded through ``sphinx.local_extensions`` in ``_config.yml``.
"""

import pathlib

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

_PROFILES = ("quick", "full")
_DEVICES = ("cpu", "gpu")
_SHOWN_VERSIONS = ("tensorflow", "tensorflow-cpu", "keras", "jax", "torch", "numpy", "python")


def _run_order(results):
    profile, device = results["profile"], results["device_key"]
    return (_PROFILES.index(profile) if profile in _PROFILES else 9,
            _DEVICES.index(device) if device in _DEVICES else 9)


def _label(results):
    return f"{results['profile']} profile, {results['device_key'].upper()}"


def _joined(values):
    unique = []
    for value in values:
        if value not in (None, "") and value not in unique:
            unique.append(value)
    return ", ".join(str(value) for value in unique) or "-"


def _versions_text(versions):
    names = {"tensorflow": "TensorFlow", "tensorflow-cpu": "TensorFlow (cpu)", "keras": "Keras", "jax": "JAX",
             "torch": "PyTorch", "numpy": "NumPy", "python": "Python"}
    return ", ".join(f"{names[name]} {versions[name]}" for name in _SHOWN_VERSIONS if versions.get(name)) or "-"


def _seconds(value):
    return f"{value:,.0f} s" if value >= 100 else f"{value:.1f} s"


def _time_text(entry):
    if entry is None:
        return "not run"
    if entry["status"] == "failed":
        return f"FAILED ({entry['error']})"
    target = entry["time_target_s"]
    if entry["status"] == "projected":
        projection = entry["projection"]
        seconds = projection["epoch_seconds"]
        per_epoch = sum(seconds) / len(seconds)
        return (f"projected {_seconds(projection['projected_s'])}: {per_epoch:.1f} s per epoch (measured over "
                f"{len(seconds)}) x {projection['epochs']} epochs + {_seconds(projection['fixed_seconds'])}; "
                f"{projection['reason']}")
    text = _seconds(entry["wall_s"])
    if target is not None:
        text += f" (target <= {target:g} s: {'met' if entry['time_met'] else 'MISSED'})"
    return text


def _figure_text(figure):
    if figure is None:
        return "-"
    value = f"{figure['value']:.4g}" + (f" {figure['unit']}" if figure["unit"] else "")
    if figure["target"] is None:
        return value
    return f"{value} (target {figure['target']}: {'met' if figure['met'] else 'MISSED'})"


def _cell(content):
    entry = nodes.entry()
    if isinstance(content, nodes.Node):
        entry += content
    else:
        text = str(content)
        paragraph = nodes.paragraph(text=text)
        if "MISSED" in text or text.startswith("FAILED"):
            paragraph["classes"].append("execution-statistics-missed")
        entry += paragraph
    return entry


def _table(header, rows, classes=()):
    table = nodes.table(classes=["execution-statistics", *classes])
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for title in header:
        row += _cell(title)
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for content in cells:
            row += _cell(content)
        body += row
    return table


def _chapter_link(chapter, title):
    reference = addnodes.pending_xref(
        "", nodes.inline(text=title), refdomain="std", reftype="doc", reftarget=f"/book/{chapter}",
        refexplicit=True, refwarn=True,
    )
    return nodes.paragraph("", "", reference)


class ExecutionStatistics(SphinxDirective):
    """Render the results files of ``book/_results`` (option ``results``: another folder, from the source root)."""

    has_content = False
    option_spec = {"results": directives.unchanged}

    def run(self):
        from cnn_tutor import bench

        self.env.execution_statistics_docs = getattr(self.env, "execution_statistics_docs", set())
        self.env.execution_statistics_docs.add(self.env.docname)
        folder = pathlib.Path(self.env.srcdir) / self.options.get("results", bench.RESULTS_DIR.as_posix())
        files = sorted(folder.glob("*.json"))
        runs = []
        for path in files:
            self.env.note_dependency(str(path))
            try:
                runs.append(bench.load_results(path))
            except ValueError as error:
                raise self.error(str(error)) from None
        if not runs:
            raise self.error(f"no results files in {folder}: run `python -m cnn_tutor.bench` first")
        runs.sort(key=_run_order)
        labels = [_label(results) for results in runs]
        by_run = [{entry["chapter"]: entry for entry in results["chapters"]} for results in runs]
        chapters = []
        for results in runs:  # chapters in the book's order, as the results files keep them
            for entry in results["chapters"]:
                if entry["chapter"] not in [name for name, _ in chapters]:
                    chapters.append((entry["chapter"], entry["title"]))

        output = [nodes.rubric(text="The runs")]
        output.append(_table(["", *labels], [
            ["device", *[_joined(e["device"] for e in r["chapters"]) for r in runs]],
            ["Keras backend", *[_joined(e["backend"] for e in r["chapters"]) for r in runs]],
            ["CPU", *[_joined(f"{e['cpu_model']} ({e['logical_cpus']} logical CPUs)" for e in r["chapters"]
                              if e["cpu_model"]) for r in runs]],
            ["versions", *[_joined(_versions_text(e["versions"]) for e in r["chapters"]) for r in runs]],
            ["commit", *[_joined(f"{e['commit']}{' (modified)' if e['dirty'] else ''}" if e["commit"] else None
                                 for e in r["chapters"]) for r in runs]],
            ["last updated", *[r["updated"] for r in runs]],
            ["note", *[r["note"] or "-" for r in runs]],
        ], classes=["execution-statistics-runs"]))

        output.append(nodes.rubric(text="Execution time per chapter"))
        output.append(_table(["chapter", *labels], [
            [_chapter_link(name, title), *[_time_text(run.get(name)) for run in by_run]] for name, title in chapters
        ], classes=["execution-statistics-times"]))

        for name, title in chapters:
            rubric = nodes.rubric(text=title, ids=[f"execution-statistics-{name}"])
            output.append(rubric)
            output.append(_chapter_link(name, f"Go to the chapter: {title}"))
            entries = [run.get(name) for run in by_run]
            figure_names = []
            for entry in entries:
                for figure in entry["figures"] if entry else []:
                    if figure["name"] not in figure_names:
                        figure_names.append(figure["name"])
            rows = [
                ["execution time", *[_time_text(entry) for entry in entries]],
                ["device", *[entry["device"] or "-" if entry else "-" for entry in entries]],
                ["backend", *[entry["backend"] or "-" if entry else "-" for entry in entries]],
                ["versions", *[_versions_text(entry["versions"]) if entry else "-" for entry in entries]],
            ]
            for figure_name in figure_names:
                found = [next((f for f in entry["figures"] if f["name"] == figure_name), None) if entry else None
                         for entry in entries]
                rows.append([figure_name, *[_figure_text(figure) for figure in found]])
            output.append(_table(["", *labels], rows, classes=["execution-statistics-chapter"]))
        return output


def _always_outdated(app, env, added, changed, removed):
    """Rebuild the statistics page on every build: results files may have been added or removed."""
    return sorted(getattr(env, "execution_statistics_docs", set()) - set(removed))


def _merge(app, env, docnames, other):
    env.execution_statistics_docs = getattr(env, "execution_statistics_docs", set()) | getattr(
        other, "execution_statistics_docs", set())


def _purge(app, env, docname):
    getattr(env, "execution_statistics_docs", set()).discard(docname)


def setup(app):
    app.add_directive("execution-statistics", ExecutionStatistics)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("env-merge-info", _merge)
    app.connect("env-purge-doc", _purge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
