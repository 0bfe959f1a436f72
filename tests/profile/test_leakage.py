"""No target item, nor anything after it, reaches a prompt or a profile."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.llm.prompts import load_template
from profilerec.profile.prompts import HistoryFormat, build_prompts


def test_prompts_hold_only_items_strictly_before_the_target(demo_dataset: Path) -> None:
    ds = Dataset.load(demo_dataset)
    titles = dict(ds.items.select("item_id", "title").iter_rows())
    inter = ds.interactions.select("user_id", "item_id", "timestamp")
    examples = ds.examples.sort("example_id")
    prompts = build_prompts(ds, examples, load_template("profile"), HistoryFormat(item_chars=400))
    checked = 0
    for ex, prompt in zip(examples.iter_rows(named=True), prompts, strict=True):
        text = json.dumps(prompt, ensure_ascii=False)
        shown = {titles[i] for i in ex["history"]}
        later = inter.filter(
            (pl.col("user_id") == ex["user_id"]) & (pl.col("timestamp") >= ex["timestamp"])
        )["item_id"]
        for item in later:  # the target and everything after it
            title = titles[item]
            if title in shown:  # a different item with the very same title is legitimately shown
                continue
            assert json.dumps(title, ensure_ascii=False)[1:-1] not in text, (ex["example_id"], item)
            checked += 1
    assert checked > 2000


def test_profiles_file_has_no_target_column(demo_dataset: Path, tmp_path: Path) -> None:
    from profilerec.profile.stage import ProfileConfig, run_profile

    class Echo:
        model_id = "echo"

        def generate(self, prompts, config):  # type: ignore[no-untyped-def]
            return [p[-1]["content"][-40:] for p in prompts]

    path = run_profile(
        Dataset.load(demo_dataset), Echo(), tmp_path, ProfileConfig(limit=5), progress=False
    )
    frame = pl.read_parquet(path)
    assert "item_id" not in frame.columns and frame.height == 5
