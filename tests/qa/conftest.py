"""A tiny-LM reader and a small hand-made dataset with ratings and review titles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from _datasets import write_dataset
from profilerec.data.dataset import Dataset

#: user -> items in time order; the last is the test target, the one before the valid one.
SEQUENCES = {
    "u1": ["a", "b", "c", "d"],
    "u2": ["b", "c", "e", "a"],
    "u3": ["c", "d", "a", "f"],
    "u4": ["e", "f", "b", "g"],
}
#: (user, item) -> rating; every other interaction is rated 5.
RATINGS = {("u1", "a"): 1.0, ("u1", "b"): 3.0, ("u2", "b"): 2.0, ("u3", "c"): 4.0, ("u4", "g"): 2.0}


def small_dataset(root: Path) -> Dataset:
    """``write_dataset`` plus hand-set ratings and a review title on every interaction."""
    ds = write_dataset(root, SEQUENCES, catalogue=list("abcdefgh"))
    inter = ds.interactions.with_columns(
        pl.struct("user_id", "item_id")
        .map_elements(lambda r: RATINGS.get((r["user_id"], r["item_id"]), 5.0), pl.Float64)
        .cast(ds.interactions["rating"].dtype)
        .alias("rating"),
        pl.format("{} on {}", "user_id", "item_id").alias("review_title"),
    )
    inter.write_parquet(root / "interactions.parquet")
    return Dataset.load(root)


@pytest.fixture
def dataset(tmp_path: Path) -> Dataset:
    return small_dataset(tmp_path / "data")


@pytest.fixture(scope="session")
def tiny_generator(tiny_lm_dir: Path) -> Any:
    from profilerec.llm.hf import TransformersGenerator

    return TransformersGenerator(str(tiny_lm_dir), dtype="float32", batch_size=4)


@pytest.fixture
def reader(tiny_generator: Any, tmp_path: Path) -> Any:
    from profilerec.qa.reader import Reader

    return Reader(tiny_generator, tmp_path / "cache", batch_size=3)
