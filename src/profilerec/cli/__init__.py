"""The ``profilerec`` command, one module per command group.

``app.py`` holds the typer app, the consoles and ``main`` (the one place that maps exceptions
to exit codes); each command module registers its commands on that app when imported here.
The order of the imports below is the order of ``profilerec --help``.
"""

from profilerec.cli.app import app, main

# isort: off
# --- command modules: each import registers that module's commands ---------------------------
# A new command group is a new module `profilerec/cli/<name>.py` that does
# `from profilerec.cli.app import app` and decorates `@app.command()`; add ONE line for it here.
from profilerec.cli import data  # noqa: F401  (prepare)
from profilerec.cli import profile  # noqa: F401  (profile, proex-profiles, pte-profiles)
from profilerec.cli import select  # noqa: F401  (select)
from profilerec.cli import evaluate  # noqa: F401  (evaluate)
from profilerec.cli import qa  # noqa: F401  (qa)
from profilerec.cli import train  # noqa: F401  (train)
from profilerec.cli import quickstart  # noqa: F401  (quickstart)
from profilerec.cli import report  # noqa: F401  (report)
from profilerec.cli import compare  # noqa: F401  (compare)
from profilerec.cli import serve  # noqa: F401  (serve)
from profilerec.cli import download  # noqa: F401  (download)
from profilerec.cli import export  # noqa: F401  (export)
from profilerec.cli import run  # noqa: F401  (run)

# --- end of command modules ------------------------------------------------------------------
# isort: on

__all__ = ["app", "main"]
