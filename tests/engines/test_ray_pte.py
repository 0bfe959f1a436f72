"""PtE's rounds with ``--engine ray``: what the local engine writes, and a kill resumes."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.engines.generation import PARTS_DIR
from profilerec.methods.pte.profiling import (
    ITEMS_FILE,
    USERS_FILE,
    PtEProfilesConfig,
    run_pte_profiles,
)

pytestmark = [pytest.mark.slow, pytest.mark.ray, pytest.mark.usefixtures("local_ray")]

CONFIG = PtEProfilesConfig(rounds=1, candidates=2, temperature=1.0, max_new_tokens=4, batch_size=8)


def ray_runner(tiny_lm_dir: Path) -> Any:
    from profilerec.engines.ray_cluster import RayOptions
    from profilerec.engines.ray_profile import RayRunner
    from profilerec.llm.hf import TransformersGenerator

    factory = partial(TransformersGenerator, str(tiny_lm_dir), batch_size=8)
    return RayRunner(factory, RayOptions(workers=2))


def test_ray_rounds_equal_local_and_a_killed_ray_run_resumes(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    from profilerec.embed.st import SentenceTransformerEmbedder
    from profilerec.llm.hf import TransformersGenerator

    ds = Dataset.load(demo_dataset)
    emb = SentenceTransformerEmbedder(str(tiny_st_dir))
    lm = TransformersGenerator(str(tiny_lm_dir), batch_size=8)
    local = run_pte_profiles(ds, lm, emb, tmp_path / "local", CONFIG, progress=False)
    runner = ray_runner(tiny_lm_dir)
    out = tmp_path / "ray"
    with pytest.raises(KeyboardInterrupt):
        run_pte_profiles(ds, runner, emb, out, CONFIG, progress=False, stop_after_batches=2)
    assert len(list((out / PARTS_DIR).glob("part-*.parquet"))) == 2
    run_pte_profiles(ds, runner, emb, out, CONFIG, progress=False)
    parts = pl.concat(pl.read_parquet(p) for p in (out / PARTS_DIR).glob("part-*.parquet"))
    assert parts["cache_key"].is_unique().all()
    assert sorted(p.name for p in (out / PARTS_DIR).iterdir()) == sorted(
        p.name for p in (local / PARTS_DIR).iterdir()
    )
    for name in (USERS_FILE, ITEMS_FILE):
        assert pl.read_parquet(out / name).equals(pl.read_parquet(local / name))
