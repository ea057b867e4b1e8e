"""The benchmark command: execute every chapter, time it, collect the figures it records.

``make bench`` runs ``python -m cnn_tutor.bench``. Each notebook listed in
``_toc.yml`` is executed once in a fresh kernel (the quick profile unless
``--profile`` says otherwise); every figure a chapter reports through
:meth:`cnn_tutor.runtime.Runtime.record` is collected from that same run, not
recomputed.  After the chapter's last cell the kernel is asked what it ran on
(device, Keras backend, library versions, CPU model and logical CPUs), so the
record describes the process that produced the figures.

The records go to one *results file* per profile and device,
``book/_results/<profile>-<device>.json`` (device ``cpu`` or ``gpu``), which
the book's execution statistics page renders at build time.  Running a few
chapters updates their entries and keeps the others, so long runs can be made
one chapter at a time; ``--fresh`` starts the file over.  A chapter whose
budget is too long for the machine gets a *projection* instead
(:func:`record_projection`): measured seconds per epoch, the epochs of the
budget, the projected total and the reason.

The format (``"schema": "cnn-tutor-bench/1"``), checked by :func:`load_results`::

    {"schema", "profile", "device_key", "updated", "note",
     "chapters": [{"chapter", "title", "status": "ran" | "failed" | "projected",
                   "started", "commit", "dirty", "profile",
                   "wall_s", "time_target_s", "time_met",
                   "device", "device_kind", "backend", "cpu_model", "logical_cpus", "versions",
                   "figures": [{"name", "value", "unit", "target", "met"}],
                   "error", "projection"}]}

The command needs ``pyyaml``, ``nbclient`` and ``nbformat`` (``requirements.txt``
installs them; so does ``pip install "cnn-tutor[bench]"``).

What a process runs on is found in ``_facts``, the results files are read and
written by ``_results``, and ``_run`` executes the chapters (or records a
projection for one); every public name is imported from here.
"""

from cnn_tutor.bench._facts import environment_facts
from cnn_tutor.bench._results import RESULTS_DIR, SCHEMA, load_results, results_path  # RESULTS_DIR: for the book's extension
from cnn_tutor.bench._run import chapters, main, record_projection, run_chapter

__all__ = [
    "SCHEMA",
    "chapters",
    "environment_facts",
    "load_results",
    "main",
    "record_projection",
    "results_path",
    "run_chapter",
]
