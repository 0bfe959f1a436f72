"""Where profilerec keeps caches: ``$PROFILEREC_CACHE`` or ``~/.cache/profilerec``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    root = Path(os.environ.get("PROFILEREC_CACHE") or Path.home() / ".cache" / "profilerec")
    root.mkdir(parents=True, exist_ok=True)
    return root


def embedding_cache_dir() -> Path:
    return cache_root() / "embeddings"
