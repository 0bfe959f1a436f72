"""The profile stage keeps each profile up to its last full sentence (issue 33)."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def test_stage_keeps_the_last_full_sentence(demo_dataset: Path, tmp_path: Path) -> None:
    from profilerec.data.dataset import Dataset
    from profilerec.profile.stage import PARTS_DIR, ProfileConfig, run_profile

    class Cut:
        model_id = "cut-test"

        def generate(self, prompts, config):  # type: ignore[no-untyped-def]
            return ["Likes soap. Wants lotion and" for _ in prompts]

    ds = Dataset.load(demo_dataset)
    on = pl.read_parquet(run_profile(ds, Cut(), tmp_path / "on", ProfileConfig(limit=3)))
    assert on["profile"].to_list() == ["Likes soap."] * 3
    raw = pl.concat([pl.read_parquet(p) for p in (tmp_path / "on" / PARTS_DIR).glob("*.parquet")])
    assert set(raw["profile"]) == {"Likes soap. Wants lotion and"}  # the cache keeps it all
    off = run_profile(ds, Cut(), tmp_path / "off", ProfileConfig(limit=3, sentence_end=False))
    assert pl.read_parquet(off)["profile"].to_list() == ["Likes soap. Wants lotion and"] * 3
