"""``PrepareConfig``: the options of the ``prepare`` stage.

It lives below ``prepare.py``, ``outofcore.py`` and ``sanity.py`` so that all three
can name it without importing one another; ``profilerec.data.prepare`` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from profilerec.data.filters import MissingMeta
from profilerec.data.readers.base import ReadOptions
from profilerec.data.splits import SplitConfig


@dataclass
class PrepareConfig:
    """Everything ``prepare`` needs besides the source; written into the manifest."""

    format: str = "amazon2023"
    #: Iterative k-core on users and items (0 or 1 disables it).
    k_core: int = 5
    #: Interactions whose item has no metadata: keep (placeholder text), drop, or error.
    missing_meta: MissingMeta = "keep"
    split: SplitConfig = field(default_factory=SplitConfig)
    read: ReadOptions = field(default_factory=ReadOptions)
    #: memory (everything in RAM, fastest), streaming (out of core, bounded by
    #: ``memory_limit``; Amazon 2023 JSONL only), or auto: streaming for reviews
    #: files above ``STREAMING_ABOVE`` bytes.
    engine: str = "auto"
    #: DuckDB's memory limit for the streaming engine (e.g. "4GB").
    memory_limit: str = "4GB"
    #: Threads of the streaming engine.
    threads: int = 2
