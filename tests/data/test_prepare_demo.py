"""The embedded demo prepared with defaults equals the official All_Beauty 5-core."""

from __future__ import annotations

import csv
import gzip
import json
from importlib import resources
from pathlib import Path

import polars as pl

from profilerec.data.dataset import Dataset


def official_test_targets() -> dict[str, str]:
    path = resources.files("profilerec.data") / "demo" / "All_Beauty.test.csv.gz"
    with gzip.open(str(path), "rt") as fh:
        return {row["user_id"]: row["parent_asin"] for row in csv.DictReader(fh)}


def test_counts_match_official_5core(demo_dataset: Path) -> None:
    ds = Dataset.load(demo_dataset)
    assert ds.interactions["user_id"].n_unique() == 253
    assert ds.items.height == 356
    assert ds.interactions.height == 2535
    assert ds.manifest["counts"]["duplicates_collapsed"] == 9
    assert ds.manifest["counts"]["examples"] == {"test": 253, "train": 1776, "valid": 253}


def test_every_test_target_equals_official_last_out(demo_dataset: Path) -> None:
    ds = Dataset.load(demo_dataset)
    ours = dict(ds.split("test").select("user_id", "item_id").iter_rows())
    official = official_test_targets()
    assert len(official) == 253
    assert ours == official


def test_test_target_matches_shared_benchmark_file(demo_dataset: Path, shared_data: Path) -> None:
    bench = shared_data / "amazon2023_all_beauty_5core/benchmark/5core/last_out_w_his"
    official = pl.read_csv(bench / "All_Beauty.test.csv")
    ours = Dataset.load(demo_dataset).split("test").select("user_id", "item_id")
    joined = ours.join(official, on="user_id")
    assert joined.height == 253
    assert (joined["item_id"] == joined["parent_asin"]).all()


def test_manifest_records_sources_and_config(demo_dataset: Path) -> None:
    manifest = json.loads((demo_dataset / "manifest.json").read_text())
    names = [Path(s["path"]).name for s in manifest["sources"]]
    assert names == ["All_Beauty.jsonl.gz", "meta_All_Beauty.jsonl.gz"]
    assert all(len(s["sha256"]) == 64 for s in manifest["sources"])
    assert manifest["config"]["k_core"] == 5
    assert manifest["config"]["split"]["kind"] == "leave_last_out"
    assert manifest["skipped"]["total"] == 0


def test_items_have_titles_and_text(demo_dataset: Path) -> None:
    items = Dataset.load(demo_dataset).items
    assert items["has_meta"].all()
    assert (items["title"].str.len_chars() > 0).all()
    assert items.filter(pl.col("store") != "").height == 282  # details['Brand'] as store
