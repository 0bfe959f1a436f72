"""``--engine ray`` writes what ``--engine local`` writes, survives a killed actor, and resumes."""

from __future__ import annotations

import os
import signal
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.llm.base import GenerationConfig
from profilerec.profile.prompts import HistoryFormat
from profilerec.profile.stage import PARTS_DIR, ProfileConfig, run_profile

pytestmark = [pytest.mark.slow, pytest.mark.ray, pytest.mark.usefixtures("local_ray")]

CONFIG = ProfileConfig(
    limit=20,
    batch_size=4,
    history=HistoryFormat(max_items=3, item_chars=40, snippet_chars=0),
    generation=GenerationConfig(max_new_tokens=6),
)


def tiny_factory(tiny_lm_dir: Path) -> Any:
    from profilerec.llm.hf import TransformersGenerator

    return partial(TransformersGenerator, str(tiny_lm_dir), batch_size=4)


def local(ds: Dataset, tiny_lm_dir: Path, out: Path, **kwargs: Any) -> pl.DataFrame:
    gen = tiny_factory(tiny_lm_dir)()
    return pl.read_parquet(run_profile(ds, gen, out, CONFIG, progress=False, **kwargs))


def ray_runner(factory: Any) -> Any:
    from profilerec.engines.ray_cluster import RayOptions
    from profilerec.engines.ray_profile import RayRunner

    return RayRunner(factory, RayOptions(workers=2))


def test_ray_writes_what_local_writes(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    ds = Dataset.load(demo_dataset)
    expected = local(ds, tiny_lm_dir, tmp_path / "local")
    runner = ray_runner(tiny_factory(tiny_lm_dir))
    got = pl.read_parquet(run_profile(ds, runner, tmp_path / "ray", CONFIG, progress=False))
    assert runner.model_id == expected["model_id"][0]
    assert got.equals(expected)
    assert sorted(p.name for p in (tmp_path / "ray" / PARTS_DIR).iterdir()) == sorted(
        p.name for p in (tmp_path / "local" / PARTS_DIR).iterdir()
    )
    assert expected["profile"].str.len_chars().sum() > 0  # the tiny model wrote something


def test_killed_actor_ends_with_every_example_once(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    from profilerec.llm.hf import TransformersGenerator
    from profilerec.llm.prompts import load_template
    from profilerec.profile.prompts import build_prompts
    from profilerec.profile.stage import select_examples

    ds = Dataset.load(demo_dataset)
    expected = local(ds, tiny_lm_dir, tmp_path / "local")
    prompts = build_prompts(
        ds, select_examples(ds, CONFIG), load_template(CONFIG.template), CONFIG.history
    )
    victim = prompts[8:12]  # the third of five batches
    marker = tmp_path / "killed"
    path = str(tiny_lm_dir)

    class KillOnce:
        """SIGKILLs its own actor process the first time it is given the victim batch."""

        def __init__(self) -> None:
            self.inner = TransformersGenerator(path, batch_size=4)
            self.model_id = self.inner.model_id

        def generate(self, batch: Any, config: GenerationConfig) -> list[str]:
            if batch == victim and not marker.exists():
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            return self.inner.generate(batch, config)

    runner = ray_runner(KillOnce)
    got = pl.read_parquet(run_profile(ds, runner, tmp_path / "ray", CONFIG, progress=False))

    assert marker.exists(), "the victim batch never reached an actor"
    assert int(marker.read_text()) != os.getpid()  # an actor died, not this process
    assert got["example_id"].is_unique().all() and got.height == expected.height
    parts = pl.concat(pl.read_parquet(p) for p in (tmp_path / "ray" / PARTS_DIR).glob("*.parquet"))
    assert parts.height == expected.height and parts["cache_key"].is_unique().all()
    assert got.equals(expected)


def test_each_engine_resumes_the_other(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    ds = Dataset.load(demo_dataset)
    whole = local(ds, tiny_lm_dir, tmp_path / "whole")

    # local killed after 2 batches, finished by ray: the local parts are kept, not redone
    out = tmp_path / "local_then_ray"
    with pytest.raises(KeyboardInterrupt):
        local(ds, tiny_lm_dir, out, stop_after_batches=2)
    first = {p.name: p.stat().st_mtime_ns for p in (out / PARTS_DIR).iterdir()}
    assert len(first) == 2
    runner = ray_runner(tiny_factory(tiny_lm_dir))
    resumed = pl.read_parquet(run_profile(ds, runner, out, CONFIG, progress=False))
    assert resumed.equals(whole)
    assert all((out / PARTS_DIR / n).stat().st_mtime_ns == t for n, t in first.items())

    # ray killed after 1 batch, finished locally
    out = tmp_path / "ray_then_local"
    with pytest.raises(KeyboardInterrupt):
        run_profile(ds, runner, out, CONFIG, progress=False, stop_after_batches=1)
    assert len(list((out / PARTS_DIR).glob("part-*.parquet"))) == 1
    assert local(ds, tiny_lm_dir, out).equals(whole)
