"""The terminal tables of evaluate: the best ID baseline is starred, slices carry CIs."""

from __future__ import annotations

from typing import Any

import pytest

from profilerec.cli.tables import print_metrics, print_slices


def result() -> dict[str, Any]:
    values = {"recall@10": 0.5, "ndcg@10": 0.25, "recall@50": 0.9, "ndcg@50": 0.3, "mrr": 0.2}
    ci = {k: [v - 0.1, v + 0.1] for k, v in values.items()}
    part = {
        "n": 7,
        "metrics": {"itemknn": {"ndcg@10": 0.125}, "zero_shot": {"ndcg@10": 0.375}},
        "ci": {"itemknn": {"ndcg@10": [0.05, 0.2]}, "zero_shot": {"ndcg@10": [0.25, 0.5]}},
    }
    empty = {"n": 0, "metrics": {}, "ci": {}}
    return {
        "split": "test",
        "n_examples": 9,
        "n_items": 30,
        "metrics": {"itemknn": values, "zero_shot": values},
        "ci": {"itemknn": ci, "zero_shot": ci},
        "best_id_baseline": "itemknn",
        "slices": {"overall": part, "cold_items": part, "rest": empty},
    }


def test_best_id_starred_and_slices_with_cis(capsys: pytest.CaptureFixture[str]) -> None:
    print_metrics(result())
    print_slices(result())
    text = capsys.readouterr().out
    assert "itemknn *" in text and "zero_shot *" not in text
    assert "best ID baseline (highest validation NDCG@10): itemknn" in text
    assert "cold n=7" in text and "rest n=0" in text and "overall" not in text
    assert ".125" in text and ".050-.200" in text and ".375" in text and ".250-.500" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_no_slices_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    print_slices({**result(), "slices": {}})
    assert capsys.readouterr().out == ""
