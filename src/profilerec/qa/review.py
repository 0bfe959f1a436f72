"""Review-title task: generate the user's review title for the target, ROUGE-L F1 vs the real one."""

from __future__ import annotations

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError


def true_titles(ds: Dataset, examples: pl.DataFrame) -> list[str]:
    inter = ds.interactions.select("user_id", "item_id", "review_title")
    joined = examples.select("example_id", "user_id", "item_id").join(
        inter, on=["user_id", "item_id"], how="left"
    )
    by_id = dict(zip(joined["example_id"], joined["review_title"], strict=True))
    return [str(by_id[e] or "") for e in examples["example_id"]]


def rouge_l(predictions: list[str], references: list[str]) -> np.ndarray:
    """ROUGE-L F1 per pair (Google's ``rouge-score``, Porter stemming)."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise UserError("--task review needs rouge-score: pip install 'profilerec[qa]'") from None

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return np.array(
        [
            scorer.score(ref, pred)["rougeL"].fmeasure
            for pred, ref in zip(predictions, references, strict=True)
        ]
    )
