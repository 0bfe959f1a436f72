"""The packaged All_Beauty demo, prepared once into ``benchmarks/.cache`` for the model benchmarks.

Imports profilerec only inside the function, so ``_common`` stays the one module a measured
child imports before its own work starts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def demo_dataset(cache: Path = CACHE) -> Path:
    """Folder of the demo dataset prepared with the default ``PrepareConfig``.

    Keyed by the demo file's bytes and the config, so a changed demo or default is prepared
    afresh; built in a temporary sibling and renamed, so a killed run leaves no half folder.
    """
    from profilerec.data.prepare import PrepareConfig, demo_source, prepare
    from profilerec.llm.bundled import atomic_dir

    source, config = demo_source(), PrepareConfig()
    digest = hashlib.sha256(source.read_bytes() + repr(config).encode()).hexdigest()[:12]
    target = cache / f"demo-dataset-{digest}"
    return atomic_dir(target, lambda out: prepare(source, out, config))
