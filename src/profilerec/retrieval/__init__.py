"""Full-catalogue retrieval, ranking metrics and bootstrap significance tests."""

from __future__ import annotations

from profilerec.retrieval.bootstrap import Interval, PairedResult, bootstrap_ci, paired_bootstrap
from profilerec.retrieval.metrics import (
    MRR,
    NDCG,
    HitRate,
    RankingMetric,
    Recall,
    compute,
    default_metrics,
    per_user_table,
)
from profilerec.retrieval.scoring import RankResult, rank_by_embeddings, rank_by_scores

__all__ = [
    "MRR",
    "NDCG",
    "HitRate",
    "Interval",
    "PairedResult",
    "RankResult",
    "RankingMetric",
    "Recall",
    "bootstrap_ci",
    "compute",
    "default_metrics",
    "paired_bootstrap",
    "per_user_table",
    "rank_by_embeddings",
    "rank_by_scores",
]
