"""The Ray embedder returns the local embedder's vectors, in order, under the same model id."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


def test_ray_embedder_matches_local_and_shares_the_cache(tiny_st_dir: Path, tmp_path: Path) -> None:
    from profilerec.embed import CachedEmbedder, load_embedder
    from profilerec.engines.ray_cluster import RayOptions
    from profilerec.engines.ray_embed import RayEmbedder

    texts = [f"hair oil number {i} for dry scalp" for i in range(37)] + ["", "rose toner"]
    local = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    factory = partial(load_embedder, f"sentence-transformers:{tiny_st_dir}")
    remote = RayEmbedder(factory, RayOptions(workers=2), chunk_size=8)
    assert (remote.model_id, remote.dim) == (local.model_id, local.dim)
    want = local.embed(texts)
    got = remote.embed(texts)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5)

    # a cache filled by the Ray embedder serves a local run, bit for bit
    CachedEmbedder(remote, tmp_path).embed(texts)
    cached = CachedEmbedder(local, tmp_path)
    np.testing.assert_array_equal(cached.embed(texts), got)
    assert cached.misses == 0
