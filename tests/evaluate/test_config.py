"""EvaluateConfig: the paired tests' cut-offs."""

from __future__ import annotations

import numpy as np
import pytest

from profilerec.errors import UserError
from profilerec.evaluate.stage import EvaluateConfig, summarise


def _per_user(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"{m}@{k}": rng.random(30) for m in ("ndcg", "recall") for k in (10, 20, 50)}


def test_paired_tests_run_at_every_asked_cutoff() -> None:
    per_user = {"a": _per_user(0), "b": _per_user(1)}
    default = summarise(per_user, EvaluateConfig(reference="a", bootstrap=50))
    assert {c["metric"] for c in default["comparisons"]} == {"ndcg@10", "recall@10"}
    both = summarise(per_user, EvaluateConfig(reference="a", bootstrap=50, compare_ks=(10, 20)))
    assert {c["metric"] for c in both["comparisons"]} == {
        "ndcg@10",
        "recall@10",
        "ndcg@20",
        "recall@20",
    }
    diff = next(c for c in both["comparisons"] if c["metric"] == "ndcg@20")["mean_diff"]
    assert diff == pytest.approx(per_user["b"]["ndcg@20"].mean() - per_user["a"]["ndcg@20"].mean())


def test_compare_ks_outside_ks_is_a_user_error() -> None:
    with pytest.raises(UserError, match="compare_ks"):
        EvaluateConfig(ks=(10, 50), compare_ks=(20,))
