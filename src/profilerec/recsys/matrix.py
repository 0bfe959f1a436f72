"""Sparse inputs shared by the item-item and factor baselines.

``train_matrix`` is the only place these baselines read interactions, and it starts from
``Dataset.train_interactions()``, so no validation or test target (nor anything after
it) is ever a training signal. ``history_matrix`` turns score-time histories into rows
weighted by recency, the aggregation item-kNN practitioners use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError


def train_matrix(dataset: Dataset) -> sp.csr_matrix:
    """Binary ``[n_users, n_items]`` float32 CSR of training interactions (catalogue columns).

    Users are rows in ``user_id`` order; a repeated (user, item) pair counts once.
    """
    index = dataset.item_index
    frame = (
        dataset.train_interactions()
        .select(
            "user_id",
            pl.col("item_id").replace_strict(index, default=None, return_dtype=pl.Int64),
        )
        .drop_nulls()
        .unique()
        .sort("user_id")
    )
    users = frame["user_id"].rank("dense").cast(pl.Int64).to_numpy() - 1
    items = frame["item_id"].to_numpy()
    n_users = int(users.max()) + 1 if len(users) else 0
    data = np.ones(len(items), dtype=np.float32)
    return sp.csr_matrix((data, (users, items)), shape=(n_users, len(index)), dtype=np.float32)


def check_histories(histories: Sequence[Sequence[int]], n_items: int) -> None:
    """One-line error for an index outside the catalogue (a caller's mistake)."""
    for h in histories:
        for i in h:
            if not 0 <= int(i) < n_items:
                raise UserError(
                    f"history holds index {i}, outside the catalogue (0..{n_items - 1})"
                )


def history_matrix(
    histories: Sequence[Sequence[int]], n_items: int, decay: float = 1.0
) -> sp.csr_matrix:
    """``[len(histories), n_items]`` float32 CSR, item weight ``decay ** age``.

    Histories are oldest -> newest; the newest item has age 0 (weight 1). An item seen
    twice gets the sum of its weights. ``decay = 1`` weighs the whole history equally.
    """
    if not 0.0 < decay <= 1.0:
        raise UserError(f"decay must be in (0, 1], got {decay}")
    check_histories(histories, n_items)
    rows, cols, vals = [], [], []
    for r, h in enumerate(histories):
        n = len(h)
        rows.extend([r] * n)
        cols.extend(int(i) for i in h)
        vals.extend(decay ** (n - 1 - k) for k in range(n))
    return sp.csr_matrix(
        (np.asarray(vals, dtype=np.float32), (rows, cols)),
        shape=(len(histories), n_items),
        dtype=np.float32,
    )


def popularity_tiebreak(train: sp.csr_matrix, seed: int = 0) -> np.ndarray:
    """``[n_items]`` float32 values in [0, 1): higher for more popular training items.

    Added (scaled far below any real score difference) to sparse item-item scores, so
    the many items tied at 0 are ordered by popularity, with seeded random order among
    equal counts, instead of being counted in the target's favour by the ranker.
    """
    counts = np.asarray(train.sum(axis=0)).ravel()
    jitter = np.random.default_rng(seed).permutation(len(counts))
    order = np.lexsort((jitter, counts))  # least popular first
    out = np.empty(len(counts), dtype=np.float32)
    out[order] = np.arange(len(counts), dtype=np.float32) / max(len(counts), 1)
    return out
