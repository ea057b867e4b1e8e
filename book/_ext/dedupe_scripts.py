"""Sphinx extension: drop duplicate <script> tags from the book's pages.

With Sphinx 7 and Jupyter Book 1, scripts that extensions add while reading
(sphinx-thebe's configuration, sphinx-togglebutton's selector) can reach a
page twice. sphinx-thebe's script declares ``const THEBE_JS_URL``, so the
second copy is a JavaScript error on every page. This keeps the first copy of
each script (same file or same inline body, same attributes).
Loaded through ``sphinx.local_extensions`` in ``_config.yml``.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # An inline script's filename is None when added to the builder and ""
        # when copied from the registry: the same script either way.
        key = (getattr(script, "filename", str(script)) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
