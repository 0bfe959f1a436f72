"""Ranking metrics computed from the target's 1-based rank, in the style of Cornac.

Every example has exactly one relevant item (the next item), so each metric is a
function of that item's rank alone. In particular Recall@K equals HitRate@K: both are
1 when the target is in the top K and 0 otherwise. Both are kept because papers report
either name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from profilerec.errors import UserError


def _check_ranks(target_ranks: np.ndarray) -> np.ndarray:
    ranks = np.asarray(target_ranks)
    if ranks.ndim != 1 or ranks.size == 0:
        raise UserError(f"target_ranks must be a non-empty 1-D array, got shape {ranks.shape}")
    if ranks.dtype.kind not in "iu" or (ranks < 1).any():
        raise UserError("target_ranks must be integer ranks starting at 1")
    return ranks.astype(np.float64)


@dataclass(frozen=True)
class RankingMetric(ABC):
    """Base class: ``per_user`` maps each example's target rank to its score."""

    @property
    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def per_user(self, target_ranks: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class _CutoffMetric(RankingMetric):
    k: int
    prefix = ""

    def __post_init__(self) -> None:
        if self.k < 1:
            raise UserError(f"metric cutoff k must be at least 1, got {self.k}")

    @property
    def name(self) -> str:
        return f"{self.prefix}@{self.k}"


@dataclass(frozen=True)
class HitRate(_CutoffMetric):
    """1 if the target is ranked within the top k, else 0."""

    prefix = "hr"

    def per_user(self, target_ranks: np.ndarray) -> np.ndarray:
        return (_check_ranks(target_ranks) <= self.k).astype(np.float64)


@dataclass(frozen=True)
class Recall(_CutoffMetric):
    """Share of relevant items in the top k; with one target this equals HitRate@k."""

    prefix = "recall"

    def per_user(self, target_ranks: np.ndarray) -> np.ndarray:
        return (_check_ranks(target_ranks) <= self.k).astype(np.float64)


@dataclass(frozen=True)
class NDCG(_CutoffMetric):
    """``1 / log2(rank + 1)`` if rank <= k else 0 (the ideal DCG of one item is 1)."""

    prefix = "ndcg"

    def per_user(self, target_ranks: np.ndarray) -> np.ndarray:
        ranks = _check_ranks(target_ranks)
        return np.where(ranks <= self.k, 1.0 / np.log2(ranks + 1.0), 0.0)


@dataclass(frozen=True)
class MRR(RankingMetric):
    """``1 / rank`` over the full ranking, not truncated at any k."""

    @property
    def name(self) -> str:
        return "mrr"

    def per_user(self, target_ranks: np.ndarray) -> np.ndarray:
        return 1.0 / _check_ranks(target_ranks)


def default_metrics(ks: Sequence[int] = (10, 20, 50)) -> list[RankingMetric]:
    """HR, Recall and NDCG at each cutoff, then MRR."""
    metrics: list[RankingMetric] = []
    for k in ks:
        metrics += [HitRate(k), Recall(k), NDCG(k)]
    return [*metrics, MRR()]


def per_user_table(
    target_ranks: np.ndarray, metrics: Sequence[RankingMetric]
) -> dict[str, np.ndarray]:
    """Per-example values by metric name (the input of the paired bootstrap)."""
    table = {m.name: m.per_user(target_ranks) for m in metrics}
    if len(table) != len(metrics):
        raise UserError("metric names must be unique; the same metric was given twice")
    return table


def compute(target_ranks: np.ndarray, metrics: Sequence[RankingMetric]) -> dict[str, float]:
    """Mean of each metric over all examples."""
    return {name: float(v.mean()) for name, v in per_user_table(target_ranks, metrics).items()}
