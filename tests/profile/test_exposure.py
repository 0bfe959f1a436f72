"""Exposure records: a leave-last-out test of a user-disjoint run is clean only when the run's
rewards never looked past the prompt's history; ``profile --adapter`` refuses the rest."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.data.prepare import PrepareConfig, demo_source, prepare
from profilerec.data.splits import SplitConfig
from profilerec.errors import UserError
from profilerec.llm.prompts import load_template
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.blue.data import build_rows, select_train_examples
from profilerec.methods.blue.validation import validation_sample
from profilerec.methods.rft.config import RFTConfig
from profilerec.profile.exposure import (
    check_exposure,
    exposed_examples,
    exposure_frame,
    write_exposure,
)


@pytest.fixture(scope="module")
def disjoint(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The demo's users split user-disjointly: training users contribute every position."""
    out = tmp_path_factory.mktemp("ud") / "dataset"
    split = SplitConfig(kind="user_disjoint", valid_users=0.2, test_users=0.2, seed=0)
    prepare(demo_source(), out, PrepareConfig(split=split))
    return Dataset.load(out)


def _frame(ds: Dataset, future_items: int) -> pl.DataFrame:
    train = select_train_examples(ds, 0, one_per_user=False, seed=0)
    valid = validation_sample(ds.split("valid"), 64, 1, 0)
    return exposure_frame(ds, train, valid, future_items=future_items)


def test_history_only_run_leaves_last_items_unseen(disjoint: Dataset, demo_dataset: Path) -> None:
    lo = Dataset.load(demo_dataset)
    test = lo.split("test")
    hits = exposed_examples(_frame(disjoint, 0), test)
    assert len(hits["train"]) == 0
    # the second-to-last items were in the training users' last prompts
    train_users = set(disjoint.split("train")["user_id"])
    hits_valid = exposed_examples(_frame(disjoint, 0), lo.split("valid"))
    assert set(
        lo.examples.filter(pl.col("example_id").is_in(hits_valid["train"].implode()))["user_id"]
    ) == train_users & set(lo.split("valid")["user_id"])
    # independently of the timestamps: no training row of a user names that user's
    # leave-last-out target as a positive or an excluded item (unless it is re-bought history)
    train = select_train_examples(disjoint, 0, one_per_user=False, seed=0)
    rows = build_rows(
        disjoint,
        train,
        load_template("profile"),
        n_positives=5,
        item_texts=disjoint.item_texts(50),
        positives_from="history",
    )
    user_of = dict(zip(train["example_id"], train["user_id"], strict=True))
    target = {
        u: (disjoint.item_index[i], {disjoint.item_index[h] for h in hist})
        for u, i, hist in test.select("user_id", "item_id", "history").iter_rows()
    }
    checked = 0
    for row in rows:
        tgt, hist = target[user_of[row["example_id"]]]
        if tgt not in hist:
            assert tgt not in row["positives"] and tgt not in row["history_idx"]
            checked += 1
    assert checked > 300


def test_next_item_rewards_expose_the_training_users_last_items(
    disjoint: Dataset, demo_dataset: Path
) -> None:
    test = Dataset.load(demo_dataset).split("test")
    frame = _frame(disjoint, 1)
    hits = exposed_examples(frame, test)
    exposed_users = set(test.filter(pl.col("example_id").is_in(hits["train"].implode()))["user_id"])
    assert exposed_users == set(disjoint.split("train")["user_id"])
    # validation targets are a selection exposure, never a training one
    valid_users = set(disjoint.split("valid")["user_id"])
    assert not exposed_users & valid_users
    assert set(frame.filter(pl.col("role") == "selection")["user_id"]) <= valid_users


def test_future_items_of_each_reward() -> None:
    cover = BlueConfig(positives_from="history", n_positives=5, weight_next_item=0.0)
    assert cover.future_items() == 0
    assert (
        BlueConfig(positives_from="next", n_positives=3, weight_next_item=0.0).future_items() == 3
    )
    hist = BlueConfig(positives_from="history", n_positives=5, weight_next_item=0.5)
    assert hist.future_items() == 1
    assert BlueConfig(reward="rlpf").future_items() == 1
    assert RFTConfig(n_positives=3).future_items() == 3


def test_check_refuses_trained_on_examples(
    disjoint: Dataset, demo_dataset: Path, tmp_path: Path
) -> None:
    test = Dataset.load(demo_dataset).split("test")
    assert check_exposure(tmp_path, test) == ""  # a run without a record: nothing to check
    write_exposure(tmp_path, _frame(disjoint, 1))
    with pytest.raises(UserError, match=r"examples have a target .* reached the training"):
        check_exposure(tmp_path, test)
    assert "seen in training" in check_exposure(tmp_path, test, allow=True)
    write_exposure(tmp_path, _frame(disjoint, 0))
    note = check_exposure(tmp_path, test)
    assert note == "" or "pick the adapter's step" in note


def test_profile_command_refuses_before_loading(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    disjoint: Dataset,
    demo_dataset: Path,
    tmp_path: Path,
) -> None:
    import profilerec.cli.profile as profile_cli
    from bad_input._inproc import no_model, run_main

    run = tmp_path / "run"
    run.mkdir()
    (run / "blue_config.json").write_text(json.dumps({"n_positives": 1}))
    write_exposure(run, _frame(disjoint, 1))
    monkeypatch.setattr(profile_cli, "make_runner", no_model, raising=False)
    code, err = run_main(
        monkeypatch, capsys, "profile", demo_dataset, "--adapter", run, "--out", tmp_path / "p"
    )
    assert code == 2 and "reached the training of" in err, err


def test_evaluate_refuses_profiles_of_a_run_that_saw_their_targets(
    disjoint: Dataset, demo_dataset: Path, tmp_path: Path
) -> None:
    from profilerec.evaluate.checks import check_evaluate_inputs

    test = Dataset.load(demo_dataset).split("test")
    run = tmp_path / "run"
    (run / "checkpoints" / "checkpoint-5").mkdir(parents=True)
    write_exposure(run, _frame(disjoint, 1))

    def profiles(adapter: Path) -> pl.DataFrame:
        return test.select(
            "example_id",
            "user_id",
            pl.lit("likes things").alias("profile"),
            pl.lit(f"base+adapter:{adapter}#0123456789ab").alias("model_id"),
        )

    for adapter in (run / "best_adapter", run / "checkpoints" / "checkpoint-5", run):
        with pytest.raises(UserError, match="reached the training of"):
            check_evaluate_inputs(test, {"p": profiles(adapter)}, [], [], None)
    write_exposure(run, _frame(disjoint, 0))  # history-only: the last items were never seen
    check_evaluate_inputs(test, {"p": profiles(run / "best_adapter")}, [], [], None)
    # an adapter from another machine (no record here) cannot be checked, and is not refused
    check_evaluate_inputs(test, {"p": profiles(tmp_path / "elsewhere")}, [], [], None)
