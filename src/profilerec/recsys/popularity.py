"""Most-popular baseline: the same scores for every user, from training counts only."""

from __future__ import annotations

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset


def popularity_scores(dataset: Dataset) -> np.ndarray:
    """Interaction count of each catalogue item (``[n_items]`` float32, catalogue order).

    Counts come from ``dataset.train_interactions()`` only, so a validation or test
    target never raises its own score. Items outside the catalogue are ignored.
    """
    index = dataset.item_index
    codes = (
        dataset.train_interactions()
        .select(pl.col("item_id").replace_strict(index, default=None, return_dtype=pl.Int64))
        .drop_nulls()
        .to_series()
        .to_numpy()
    )
    return np.bincount(codes, minlength=len(index)).astype(np.float32)
