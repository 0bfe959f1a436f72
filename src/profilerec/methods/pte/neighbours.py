"""Collaborative structure for PtE, read from ``Dataset.train_interactions()`` only.

User neighbours, the users of each item and each user's training history all start from
the training graph (``TrainGraph.from_dataset``), so no validation or test target, nor
anything after it, becomes a neighbour link, an item's audience or a prompt line.

Neighbours are ranked by **Jaccard** similarity of training item sets (shared items over
the union) rather than raw overlap: with overlap counts, a few heavy users become everyone's
neighbour. Ties go to the larger overlap, then to the user earlier in ``user_order``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
from scipy import sparse  # a dependency of sentence-transformers, hence always installed

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.graph import TrainGraph

Measure = Literal["jaccard", "overlap"]
#: Users per sparse co-occurrence product: memory is bounded by ``chunk x n_users``.
_CHUNK = 2048


def user_neighbours(
    dataset: Dataset, k: int = 5, *, measure: Measure = "jaccard"
) -> dict[str, list[str]]:
    """Up to ``k`` users sharing the most training items with each user, best first.

    Every user of ``user_order(dataset)`` is a key; a user shares nothing with anyone (or
    has no training items) gets ``[]``. Only users with at least one shared item qualify.
    """
    if k < 0:
        raise UserError(f"the number of neighbours must be >= 0, got {k}")
    if measure not in ("jaccard", "overlap"):
        raise UserError(f"unknown neighbour measure {measure!r}; use jaccard or overlap")
    graph = TrainGraph.from_dataset(dataset)
    n = graph.n_users
    out: dict[str, list[str]] = {u: [] for u in graph.user_ids}
    if k == 0 or len(graph.users) == 0:
        return out
    adj = sparse.csr_matrix(
        (np.ones(len(graph.users), dtype=np.float32), (graph.users, graph.items)),
        shape=(n, graph.n_items),
    )
    degree = np.asarray(adj.sum(axis=1)).ravel()
    adj_t = adj.T.tocsr()
    for start in range(0, n, _CHUNK):
        shared = (adj[start : start + _CHUNK] @ adj_t).tocsr()  # overlap counts [chunk, n]
        for row in range(shared.shape[0]):
            u = start + row
            lo, hi = shared.indptr[row], shared.indptr[row + 1]
            others, overlap = shared.indices[lo:hi], shared.data[lo:hi]
            keep = (others != u) & (overlap > 0)
            others, overlap = others[keep], overlap[keep]
            if measure == "jaccard":
                score = overlap / (degree[u] + degree[others] - overlap)
            else:
                score = overlap
            # lexsort sorts by the last key first: score desc, then overlap desc, then index asc
            order = np.lexsort((others, -overlap, -score))[:k]
            out[graph.user_ids[u]] = [graph.user_ids[j] for j in others[order]]
    return out


def item_users(dataset: Dataset) -> dict[str, list[str]]:
    """The users of each catalogue item in training, most recent interaction first.

    Every catalogue item is a key (``[]`` when no user had it in training). Ties in time
    are broken by user id, so the order is deterministic.
    """
    catalogue = set(dataset.item_ids)
    frame = (
        _train_pairs(dataset)
        .filter(pl.col("item_id").is_in(catalogue))
        .sort(["item_id", "timestamp", "user_id"], descending=[False, True, False])
        .group_by("item_id", maintain_order=True)
        .agg("user_id")
    )
    out: dict[str, list[str]] = {i: [] for i in dataset.item_ids}
    out.update(zip(frame["item_id"].to_list(), frame["user_id"].to_list(), strict=True))
    return out


def training_histories(dataset: Dataset) -> dict[str, list[tuple[str, float | None]]]:
    """Each user's training items with ratings, oldest first (users with none are absent)."""
    catalogue = set(dataset.item_ids)
    frame = (
        _train_pairs(dataset)
        .filter(pl.col("item_id").is_in(catalogue))
        .sort(["user_id", "timestamp", "item_id"])
        .group_by("user_id", maintain_order=True)
        .agg("item_id", "rating")
    )
    return {
        user: list(zip(items, ratings, strict=True)) for user, items, ratings in frame.iter_rows()
    }


def _train_pairs(dataset: Dataset) -> pl.DataFrame:
    """One row per (user, item) training pair, at its earliest time (duplicates collapsed)."""
    return (
        dataset.train_interactions()
        .select("user_id", "item_id", "timestamp", "rating")
        .sort("timestamp")
        .unique(["user_id", "item_id"], keep="first", maintain_order=True)
    )
