"""EASE (Steck, 2019): a closed-form linear item-item model, a strong sparse-data baseline.

B = argmin ||X - X B||^2 + l2 ||B||^2 subject to diag(B) = 0, solved exactly:
P = (X^T X + l2 I)^-1, B = -P / diag(P) (column-wise), diag(B) = 0. Score = h B with h
the (optionally recency-weighted) history row. Trained on ``train_interactions()`` only.

It needs the dense n x n Gram matrix and its inverse in memory: float64 n^2 x 8 bytes
each, plus the float32 B (n^2 x 4), so about 20 n^2 bytes at the peak. ``max_items``
(default 15,000 -> ~4.5 GB) refuses larger catalogues with a clear error instead of
letting the machine swap; raise it only with the memory to match.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import scipy.linalg
import torch
from threadpoolctl import threadpool_limits

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.cooccurrence import item_item_scores
from profilerec.recsys.matrix import popularity_tiebreak, train_matrix

MAX_ITEMS = 15_000
BYTES_PER_ITEM2 = 20  # float64 Gram + float64 inverse + float32 B


class EASERecommender:
    """Closed-form EASE with an L2 weight; refuses catalogues above ``max_items``."""

    name = "ease"
    GRID: ClassVar[dict[str, list[Any]]] = {"l2": [1.0, 5.0, 20.0, 50.0, 100.0, 250.0, 500.0]}

    def __init__(
        self,
        l2: float = 100.0,
        decay: float = 1.0,
        max_items: int = MAX_ITEMS,
        threads: int = 1,
        tiebreak: bool = True,
    ) -> None:
        """``l2``: ridge weight (larger = smoother); ``decay``: history weight
        ``decay ** age``; ``max_items``: the catalogue size refused (memory, see module);
        ``threads``: BLAS threads for the inverse."""
        if l2 <= 0:
            raise UserError(f"EASE l2 must be positive, got {l2}")
        self.l2, self.decay, self.max_items = l2, decay, max_items
        self.threads, self.tiebreak = threads, tiebreak
        self._b: np.ndarray | None = None
        self._tb: np.ndarray | None = None

    @property
    def params(self) -> dict[str, Any]:
        return {"l2": self.l2, "decay": self.decay}

    def fit(self, dataset: Dataset) -> Self:
        n = len(dataset.item_ids)
        if n > self.max_items:
            gib = BYTES_PER_ITEM2 * n * n / 2**30
            raise UserError(
                f"EASE needs a dense {n} x {n} item-item matrix and its inverse "
                f"(about {gib:.1f} GiB); the limit is max_items={self.max_items} items. "
                "Use itemknn or als for this catalogue, or raise max_items if you have the memory"
            )
        x = train_matrix(dataset)
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices(n)] += self.l2
        with threadpool_limits(self.threads, "blas"):
            p = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        b = p / (-np.diag(p))[None, :]
        b[np.diag_indices(n)] = 0.0
        self._b, self._tb = b.astype(np.float32), popularity_tiebreak(x)
        return self

    def score(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        return item_item_scores(self._b, self._tb if self.tiebreak else None, histories, self.decay)
