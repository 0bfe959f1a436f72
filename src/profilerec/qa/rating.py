"""Rating task: the reader's next-token distribution over the digits 1-5, no sampling.

The expected rating ``sum_d d * p(d)`` (p renormalised over the five digits) is scored by
absolute and squared error; the most likely digit by accuracy. Trivial predictors (user,
item and global mean of *training* ratings) sit beside the contexts.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset

DIGITS = ["1", "2", "3", "4", "5"]


def digit_prediction(logprobs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probabilities renormalised over 1-5, expected rating, most likely digit) per row."""
    lp = np.asarray(logprobs, dtype=np.float64)
    p = np.exp(lp - lp.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    values = np.arange(1, 6, dtype=np.float64)
    return p, p @ values, values[p.argmax(axis=1)]


def scores(expected: np.ndarray, top: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Per-example errors; a mean of ``sq_err`` is the MSE whose root is the RMSE."""
    return {
        "abs_err": np.abs(expected - truth),
        "sq_err": (expected - truth) ** 2,
        "correct": (top == truth).astype(np.float64),
    }


def true_ratings(ds: Dataset, examples: pl.DataFrame) -> np.ndarray:
    inter = ds.interactions.select("user_id", "item_id", "rating")
    joined = examples.select("example_id", "user_id", "item_id").join(
        inter, on=["user_id", "item_id"], how="left"
    )
    by_id = dict(zip(joined["example_id"], joined["rating"], strict=True))
    return np.array([by_id[e] for e in examples["example_id"]], dtype=np.float64)


def trivial_predictions(ds: Dataset, examples: pl.DataFrame) -> dict[str, np.ndarray]:
    """User, item and global mean rating over ``train_interactions()`` (no target, nothing later).

    A user with no training rating (every test user of a user-disjoint split) gets the mean
    of the ratings in the example's own history, all given before the target; a user with
    neither, or an item with no training rating, falls back to the global mean.
    """
    train = ds.train_interactions().drop_nulls("rating")
    glob = float(train["rating"].mean())  # type: ignore[arg-type]
    user = dict(train.group_by("user_id").agg(pl.col("rating").mean()).iter_rows())
    item = dict(train.group_by("item_id").agg(pl.col("rating").mean()).iter_rows())
    unseen = [u not in user for u in examples["user_id"]]
    fallback = np.full(examples.height, glob)
    if any(unseen):
        for k, entries in enumerate(ds.history_entries(examples.filter(pl.Series(unseen)))):
            past = [e.rating for e in entries if e.rating is not None]
            fallback[np.flatnonzero(unseen)[k]] = float(np.mean(past)) if past else glob
    return {
        "user_mean": np.array(
            [user.get(u, fallback[k]) for k, u in enumerate(examples["user_id"])]
        ),
        "item_mean": np.array([item.get(i, glob) for i in examples["item_id"]]),
        "global_mean": np.full(examples.height, glob),
    }


def trivial_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """A constant predictor's "most likely digit" is its prediction rounded into 1-5."""
    return scores(pred, np.clip(np.rint(pred), 1, 5), truth)
