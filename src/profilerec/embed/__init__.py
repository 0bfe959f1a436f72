"""Text embedders: local sentence-transformers, OpenAI-compatible servers, and an on-disk cache."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from profilerec.embed.base import Embedder
from profilerec.embed.cache import CachedEmbedder
from profilerec.embed.openai_compat import OpenAIEmbedder
from profilerec.embed.st import SentenceTransformerEmbedder
from profilerec.errors import UserError

__all__ = [
    "EMBEDDER_SPECS",
    "CachedEmbedder",
    "Embedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "load_embedder",
]

#: The forms ``load_embedder`` accepts, for help texts and error messages.
EMBEDDER_SPECS = (
    "sentence-transformers (or minilm): the bundled all-MiniLM-L6-v2",
    "sentence-transformers:ID_OR_PATH: a local SentenceTransformer folder or cached Hub id",
    "openai:MODEL@BASE_URL: an OpenAI-compatible server, e.g. openai:bge-m3@http://localhost:8000/v1",
)

# The URL starts at the first "@http(s)://", so model names may themselves contain "@".
_OPENAI = re.compile(r"openai:(?P<model>.+?)@(?P<url>https?://\S+)")


def load_embedder(
    spec: str = "sentence-transformers", *, cache_dir: Path | None = None, **kwargs: Any
) -> Embedder:
    """Builds the embedder a spec names; with ``cache_dir``, wrapped in a CachedEmbedder.

    ``kwargs`` go to the backend's constructor (e.g. ``batch_size``, ``normalize``).
    """
    spec = spec.strip()
    embedder: Embedder
    if spec in ("sentence-transformers", "minilm"):
        embedder = SentenceTransformerEmbedder(None, **kwargs)
    elif spec.startswith("sentence-transformers:") and spec.partition(":")[2].strip():
        embedder = SentenceTransformerEmbedder(spec.partition(":")[2].strip(), **kwargs)
    elif match := _OPENAI.fullmatch(spec):
        embedder = OpenAIEmbedder(match["model"], match["url"], **kwargs)
    else:
        forms = "; ".join(EMBEDDER_SPECS)
        raise UserError(f"unknown embedder {spec!r}; valid forms: {forms}")
    return CachedEmbedder(embedder, cache_dir) if cache_dir is not None else embedder
