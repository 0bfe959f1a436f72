"""The MiniOneRec reader on the real Industrial_and_Scientific split (counts of PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.data.prepare import PrepareConfig, prepare

SOURCE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "amazon2018_industrial_minionerec"
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not SOURCE.is_dir(), reason=f"real data absent: {SOURCE}"),
]


def test_counts_and_given_split(tmp_path: Path) -> None:
    manifest = prepare(SOURCE, tmp_path / "data", PrepareConfig(format="minionerec"))
    counts = manifest["counts"]
    assert counts["examples"]["test"] == 4533
    assert counts["examples"]["valid"] == 4532
    assert counts["items"] == 3686
    ds = Dataset.load(tmp_path / "data")
    test, valid = ds.split("test"), ds.split("valid")
    assert (test["user_id"].n_unique(), valid["user_id"].n_unique()) == (1987, 2011)
    assert test["history"].list.len().max() == 10
    assert counts["given"]["windows_not_continuing"] == 0
    # training pairs: users' items before their first valid/test row; PROVENANCE counts
    # 12,894 of them that are not also a later valid/test target of the same user
    train = ds.train_interactions()
    held = pl.concat([test, valid]).select("user_id", "item_id").unique()
    assert train.join(held, on=["user_id", "item_id"], how="anti").height == 12894
