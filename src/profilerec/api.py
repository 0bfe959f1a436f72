"""``profilerec.prepare``: the prepare stage as a Python user calls it.

``data.prepare.prepare`` takes a full config and returns the manifest because the CLI and
the experiment runner always have a config and want the record; a user in a notebook has
neither, and wants the ``Dataset`` back. This wrapper only fills those defaults: the work
and the files are the stage's own. (``profilerec.evaluate``, its sibling, is the evaluate
subpackage called as a function: ``evaluate/__init__.py``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from profilerec.data.dataset import Dataset
    from profilerec.data.prepare import PrepareConfig

#: ``prepare``'s source that names the bundled All_Beauty demo.
DEMO = "demo"


def prepare(
    source: str | Path,
    out: str | Path,
    config: PrepareConfig | None = None,
    *,
    overwrite: bool = False,
) -> Dataset:
    """Prepare ``source`` (a reviews file or folder, or ``"demo"``) into the dataset folder
    ``out`` (``profilerec prepare``) and return it loaded."""
    from profilerec.data.dataset import Dataset
    from profilerec.data.prepare import PrepareConfig, demo_source
    from profilerec.data.prepare import prepare as run_prepare

    src = demo_source() if str(source) == DEMO else source
    run_prepare(src, out, config or PrepareConfig(), overwrite=overwrite)
    return Dataset.load(out)
