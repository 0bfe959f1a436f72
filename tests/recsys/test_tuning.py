"""Tuning reads the validation split only and records the grid it searched."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.recsys.tuning import tune

MakeDataset = Callable[..., Dataset]

LOG = {
    **{f"p{k}": ["a", "b", "x", "y", "a"] for k in range(3)},
    **{f"q{k}": ["c", "d", "y", "x", "c"] for k in range(3)},
    "r0": ["b", "a", "c", "x", "d"],
}


def test_tuning_never_reads_a_test_example(
    make_dataset: MakeDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = make_dataset(LOG)
    real_split = Dataset.split

    def guarded(self: Dataset, name: str) -> pl.DataFrame:
        assert name != "test", "tuning read the test split"
        return real_split(self, name)

    monkeypatch.setattr(Dataset, "split", guarded)
    grid = {"decay": [1.0, 0.5], "neighbours": [0, 1]}
    _, result = tune("itemknn", ds, grid=grid)
    assert [t["params"] for t in result.trials] == [
        {"decay": 1.0, "neighbours": 0},
        {"decay": 1.0, "neighbours": 1},
        {"decay": 0.5, "neighbours": 0},
        {"decay": 0.5, "neighbours": 1},
    ]
    assert result.valid_ndcg10 == max(t["valid_ndcg@10"] for t in result.trials)
    assert result.as_json()["grid"] == grid


def test_changing_test_targets_changes_no_tuning_score(make_dataset: MakeDataset) -> None:
    other = {u: [*seq[:-1], "d" if seq[-1] != "d" else "b"] for u, seq in LOG.items()}
    a = tune("ease", make_dataset(LOG))[1]
    b = tune("ease", make_dataset(other))[1]
    # Same catalogue, training interactions and validation targets; only the test targets
    # differ, so every grid point scores the same.
    assert [t["valid_ndcg@10"] for t in a.trials] == pytest.approx(
        [t["valid_ndcg@10"] for t in b.trials]
    )
    assert a.chosen == b.chosen


def test_no_tune_fits_the_documented_defaults(make_dataset: MakeDataset) -> None:
    model, result = tune("itemknn", make_dataset(LOG), tune_grid=False)
    assert result.grid == {} and len(result.trials) == 1
    assert result.chosen == {"decay": 0.7, "neighbours": 0, "tiebreak": True}
    assert model.params == result.chosen


def test_staged_search_tunes_each_stage_around_the_best_and_fits_no_point_twice(
    make_dataset: MakeDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    from profilerec.recsys.baselines import baseline_class

    cls = baseline_class("itemknn")
    stages = [{"decay": [1.0, 0.5]}, {"neighbours": [0, 1]}]
    monkeypatch.setattr(cls, "GRID_STAGES", stages, raising=False)
    _, result = tune("itemknn", make_dataset(LOG))
    first = [t for t in result.trials if set(t["params"]) == {"decay"}]
    second = [t for t in result.trials if "neighbours" in t["params"]]
    best_decay = max(first, key=lambda t: t["valid_ndcg@10"])["params"]["decay"]
    # neighbours=0 is the default: with the best decay it was fitted in stage 1 already
    assert [t["params"] for t in second] == [{"decay": best_decay, "neighbours": 1}]
    assert len(result.trials) == 3
    assert result.as_json()["stages"] == stages
    assert result.as_json()["grid"] == {"decay": [1.0, 0.5], "neighbours": [0, 1]}
    assert result.valid_ndcg10 == max(t["valid_ndcg@10"] for t in result.trials)


def test_sasrec_searches_width_and_depth_after_lr_and_dropout() -> None:
    from profilerec.recsys.baselines import baseline_class

    stages = baseline_class("sasrec").GRID_STAGES
    assert set(stages[0]) == {"lr", "dropout"} and set(stages[1]) == {"hidden", "layers"}
