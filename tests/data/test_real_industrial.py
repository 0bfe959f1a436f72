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


@pytest.mark.parametrize("positives", ["history", "next"])
def test_blue_training_rows_hold_no_evaluation_period_item(tmp_path: Path, positives: str) -> None:
    """BLUE on Industrial (examples/blue_industrial.yaml): no training prompt or reward holds
    an item of the validation or test period, validation users had no training example, and
    no test example is exposed to the run."""
    from profilerec.llm.prompts import load_template
    from profilerec.methods.blue.config import BlueConfig
    from profilerec.methods.blue.data import build_rows, select_train_examples
    from profilerec.methods.blue.validation import disjoint_users, validation_sample
    from profilerec.profile.exposure import exposed_examples, exposure_frame

    repo = Path(__file__).resolve().parents[2]
    sets = {"positives_from": positives} | ({"n_positives": 3} if positives == "next" else {})
    cfg = BlueConfig.from_yaml(repo / "examples" / "blue_industrial.yaml", **sets)
    prepare(SOURCE, tmp_path / "data", PrepareConfig(format="minionerec"))
    ds = Dataset.load(tmp_path / "data")
    train = select_train_examples(ds, cfg.train_examples, one_per_user=True, seed=cfg.seed)
    rows = build_rows(
        ds,
        train,
        load_template(cfg.template),
        n_positives=cfg.n_positives,
        item_texts=ds.item_texts(40),
        history=cfg.history_format(),
        positives_from=cfg.positives_from,
    )
    assert len(rows) > 500
    # the first evaluation-period timestamp of each user bounds everything training used
    held = pl.concat([ds.split("valid"), ds.split("test")])
    first = dict(held.group_by("user_id").agg(pl.col("timestamp").min()).iter_rows())
    times = {
        (u, ds.item_index[i]): t
        for u, i, t in ds.train_interactions().select("user_id", "item_id", "timestamp").iter_rows()
    }
    by_id = {r["example_id"]: r for r in rows}
    for user, eid in train.select("user_id", "example_id").iter_rows():
        if eid not in by_id:
            continue
        for item in by_id[eid]["positives"] + by_id[eid]["history_idx"]:
            assert times[(user, item)] < first.get(user, float("inf"))
    valid = validation_sample(
        disjoint_users(ds.split("valid"), train), cfg.eval_examples, cfg.eval_per_user, cfg.seed
    )
    assert valid.height >= 500 and not set(valid["user_id"]) & set(train["user_id"])
    frame = exposure_frame(ds, train, valid, future_items=cfg.future_items())
    exposed = exposed_examples(frame, ds.split("test"))
    assert exposed["train"].len() == 0 and exposed["selection"].len() == 0
