"""Item-kNN: cosine similarity between items' training-user sets, history weighted by recency.

sim(i, j) = |U_i & U_j| / sqrt(|U_i| |U_j|), diagonal zeroed, optionally pruned to each
item's ``neighbours`` most similar items; score of j = sum_h decay**age(h) * sim(h, j).
This is the item-to-item recommender practitioners ship (Sarwar et al. 2001; Linden et
al. 2003); the recency decay makes it sequence-aware, which matters for next-item data.
Trained on ``train_interactions()`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.cooccurrence import item_item_scores
from profilerec.recsys.matrix import check_histories, popularity_tiebreak, train_matrix


def cosine_similarity(x: sp.csr_matrix) -> sp.csr_matrix:
    """Item-item cosine of the columns of a binary user-item matrix, diagonal 0."""
    co = (x.T @ x).tocsr().astype(np.float32)
    norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel()).astype(np.float32)
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    sim = sp.diags(inv) @ co @ sp.diags(inv)
    sim = sp.csr_matrix(sim)
    sim.setdiag(0)
    sim.eliminate_zeros()
    return sim


def keep_top(sim: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep each row's ``k`` largest entries (all when ``k`` is 0)."""
    if k <= 0:
        return sim
    rows, cols, vals = [], [], []
    for r in range(sim.shape[0]):
        lo, hi = sim.indptr[r], sim.indptr[r + 1]
        row_vals, row_cols = sim.data[lo:hi], sim.indices[lo:hi]
        if len(row_vals) > k:
            top = np.argpartition(-row_vals, k - 1)[:k]
            row_vals, row_cols = row_vals[top], row_cols[top]
        rows.extend([r] * len(row_vals))
        cols.extend(row_cols.tolist())
        vals.extend(row_vals.tolist())
    return sp.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=sim.shape)


class ItemKNNRecommender:
    """Recency-weighted sum of cosine similarities to the history items."""

    name = "itemknn"
    GRID: ClassVar[dict[str, list[Any]]] = {
        "decay": [1.0, 0.9, 0.7, 0.5, 0.3],
        "neighbours": [0, 20, 100],
    }

    def __init__(self, decay: float = 0.7, neighbours: int = 0, tiebreak: bool = True) -> None:
        """``decay``: weight ``decay ** age`` of a history item (newest has age 0);
        ``neighbours``: similar items kept per item (0 = all); ``tiebreak``: order equal
        scores by training popularity."""
        if neighbours < 0:
            raise UserError(f"neighbours must be >= 0, got {neighbours}")
        self.decay, self.neighbours, self.tiebreak = decay, neighbours, tiebreak
        self._sim: sp.csr_matrix | None = None
        self._tb: np.ndarray | None = None

    @property
    def params(self) -> dict[str, Any]:
        return {"decay": self.decay, "neighbours": self.neighbours, "tiebreak": self.tiebreak}

    def fit(self, dataset: Dataset) -> Self:
        x = train_matrix(dataset)
        self._sim = keep_top(cosine_similarity(x), self.neighbours)
        self._tb = popularity_tiebreak(x)
        return self

    def score(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        return item_item_scores(
            self._sim, self._tb if self.tiebreak else None, histories, self.decay
        )

    def explain(self, history: Sequence[int], items: Sequence[int]) -> list[int]:
        """Per item in ``items``, the history item (catalogue index) contributing most to
        its score, i.e. argmax over h of ``decay ** age(h) * sim(h, item)``; -1 when no
        history item contributes (the item was ranked by the popularity tie-break only)."""
        if self._sim is None:
            raise UserError("call fit(dataset) before explain()")
        n = self._sim.shape[0]
        check_histories([history, items], n)
        if not history:
            return [-1] * len(items)
        hist = np.asarray(history, dtype=np.int64)
        weights = self.decay ** np.arange(len(hist) - 1, -1, -1, dtype=np.float64)
        block = self._sim[hist][:, np.asarray(items, dtype=np.int64)].toarray()
        contrib = block * weights[:, None]  # [history, items]
        best = contrib.argmax(axis=0)
        return [int(hist[b]) if contrib[b, c] > 0 else -1 for c, b in enumerate(best)]
