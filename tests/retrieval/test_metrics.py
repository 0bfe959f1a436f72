"""Metrics pinned by hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from profilerec.errors import UserError
from profilerec.retrieval.metrics import (
    MRR,
    NDCG,
    HitRate,
    Recall,
    compute,
    default_metrics,
    per_user_table,
)

RANKS = np.array([1, 3, 10, 11, 100])


def test_hit_rate_and_recall_agree_with_one_target() -> None:
    expected = [1.0, 1.0, 1.0, 0.0, 0.0]
    assert HitRate(10).per_user(RANKS).tolist() == expected
    assert Recall(10).per_user(RANKS).tolist() == expected
    assert HitRate(1).per_user(RANKS).tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_ndcg_values() -> None:
    # 1/log2(2) = 1, 1/log2(4) = 0.5, 1/log2(11) = 0.289065..., ranks 11 and 100 are cut.
    got = NDCG(10).per_user(RANKS)
    assert got.tolist() == pytest.approx([1.0, 0.5, 0.2890648, 0.0, 0.0], abs=1e-7)
    assert NDCG(11).per_user(np.array([11])).tolist() == pytest.approx([1 / math.log2(12)])


def test_mrr_is_not_truncated() -> None:
    assert MRR().per_user(RANKS).tolist() == pytest.approx([1.0, 1 / 3, 0.1, 1 / 11, 0.01])


def test_names_and_defaults() -> None:
    names = [m.name for m in default_metrics((5, 10))]
    assert names == ["hr@5", "recall@5", "ndcg@5", "hr@10", "recall@10", "ndcg@10", "mrr"]
    assert len(default_metrics()) == 10


def test_compute_means_and_table() -> None:
    metrics = [HitRate(10), NDCG(10), MRR()]
    means = compute(RANKS, metrics)
    assert means["hr@10"] == pytest.approx(0.6)
    assert means["ndcg@10"] == pytest.approx((1 + 0.5 + 0.2890648) / 5, abs=1e-7)
    assert means["mrr"] == pytest.approx(1.5342424 / 5, abs=1e-7)
    table = per_user_table(RANKS, metrics)
    assert list(table) == ["hr@10", "ndcg@10", "mrr"]
    assert table["hr@10"].shape == (5,)


def test_bad_input_raises_user_error() -> None:
    with pytest.raises(UserError, match="starting at 1"):
        MRR().per_user(np.array([0, 1]))
    with pytest.raises(UserError, match="non-empty"):
        compute(np.array([], dtype=np.int64), [MRR()])
    with pytest.raises(UserError, match="at least 1"):
        NDCG(0)
    with pytest.raises(UserError, match="unique"):
        per_user_table(RANKS, [MRR(), MRR()])
