"""ID-based recommenders: the baselines a user would pick instead of LLM profiles."""

from __future__ import annotations

from profilerec.recsys.popularity import popularity_scores
from profilerec.recsys.sasrec import (
    SASRec,
    SASRecConfig,
    sasrec_histories,
    train_sasrec,
    training_sequences,
)

__all__ = [
    "SASRec",
    "SASRecConfig",
    "popularity_scores",
    "sasrec_histories",
    "train_sasrec",
    "training_sequences",
]
