"""A killed-and-resumed profile run equals an uninterrupted one (sampling, same seed)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.llm.base import GenerationConfig
from profilerec.profile.prompts import HistoryFormat
from profilerec.profile.stage import PARTS_DIR, ProfileConfig, run_profile

SHORT = HistoryFormat(max_items=3, item_chars=40, snippet_chars=0)


class CountingGenerator:
    """Wraps a real generator and counts the prompts it is asked for."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.model_id, self.calls = inner, inner.model_id, 0

    def generate(self, prompts, config):  # type: ignore[no-untyped-def]
        self.calls += len(prompts)
        return self.inner.generate(prompts, config)


def test_killed_and_resumed_equals_uninterrupted(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    from profilerec.llm.hf import TransformersGenerator

    ds = Dataset.load(demo_dataset)
    config = ProfileConfig(
        limit=12,
        batch_size=4,
        history=SHORT,
        generation=GenerationConfig(max_new_tokens=6, temperature=1.0, seed=7),
    )
    gen = TransformersGenerator(str(tiny_lm_dir), batch_size=4)

    whole = pl.read_parquet(run_profile(ds, gen, tmp_path / "whole", config, progress=False))

    counting = CountingGenerator(gen)
    with pytest.raises(KeyboardInterrupt):
        run_profile(
            ds, counting, tmp_path / "resumed", config, progress=False, stop_after_batches=2
        )
    assert len(list((tmp_path / "resumed" / PARTS_DIR).glob("part-*.parquet"))) == 2
    assert not (tmp_path / "resumed" / "profiles.parquet").exists()
    resumed = pl.read_parquet(
        run_profile(ds, counting, tmp_path / "resumed", config, progress=False)
    )
    assert counting.calls == 8 + 4  # two batches before the kill, only the third after it

    assert whole.drop("prompt").equals(resumed.drop("prompt"))
    assert whole["profile"].to_list() == resumed["profile"].to_list()
    # sampling really happened: another seed writes different text
    other = ProfileConfig(
        limit=12,
        batch_size=4,
        history=SHORT,
        generation=GenerationConfig(max_new_tokens=6, temperature=1.0, seed=8),
    )
    again = pl.read_parquet(run_profile(ds, gen, tmp_path / "other", other, progress=False))
    assert again["profile"].to_list() != whole["profile"].to_list()
