"""ProEx's chains with ``--engine ray``: what the local engine writes, and a kill resumes."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.engines.generation import PARTS_DIR
from profilerec.methods.proex.cot import USER_FILE, ProExProfilesConfig, run_proex_profiles
from profilerec.recsys.graph import user_order

pytestmark = [pytest.mark.slow, pytest.mark.ray, pytest.mark.usefixtures("local_ray")]

CONFIG = ProExProfilesConfig(k=2, entities="users", batch_size=4, max_new_tokens=6)


def tiny_factory(tiny_lm_dir: Path) -> Any:
    from profilerec.llm.hf import TransformersGenerator

    return partial(TransformersGenerator, str(tiny_lm_dir), batch_size=4)


def ray_runner(tiny_lm_dir: Path) -> Any:
    from profilerec.engines.ray_cluster import RayOptions
    from profilerec.engines.ray_profile import RayRunner

    return RayRunner(tiny_factory(tiny_lm_dir), RayOptions(workers=2))


def users(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / USER_FILE)


def test_ray_chains_equal_local_and_a_killed_ray_run_resumes(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    ds = Dataset.load(demo_dataset)
    lm = tiny_factory(tiny_lm_dir)()
    run_proex_profiles(ds, lm, tmp_path / "local", CONFIG, progress=False)
    runner = ray_runner(tiny_lm_dir)
    run_proex_profiles(ds, runner, tmp_path / "ray", CONFIG, progress=False)
    assert users(tmp_path / "ray").equals(users(tmp_path / "local"))

    out = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        run_proex_profiles(ds, runner, out, CONFIG, progress=False, stop_after_batches=1)
    assert len(list((out / PARTS_DIR).glob("user-*.parquet"))) == 1
    run_proex_profiles(ds, runner, out, CONFIG, progress=False)
    parts = pl.concat(pl.read_parquet(p) for p in (out / PARTS_DIR).glob("user-*.parquet"))
    assert parts["cache_key"].is_unique().all() and parts.height == len(user_order(ds))
    assert users(out).equals(users(tmp_path / "local"))
