"""Where profilerec keeps caches: ``$PROFILEREC_CACHE`` or ``~/.cache/profilerec``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The one cache root for models and embeddings; created by whoever writes into it."""
    env = os.environ.get("PROFILEREC_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "profilerec"


def embedding_cache_dir() -> Path:
    return cache_root() / "embeddings"
