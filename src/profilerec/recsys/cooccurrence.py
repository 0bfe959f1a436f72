"""Item co-occurrence counts: "people who bought your items also bought".

Score of item j = sum over history items h of (users who had both h and j in training),
optionally weighted by recency. The simplest item-to-item method shipped in practice;
on sparse logs it is a strong, hard-to-beat baseline, so every text method is read
against it. Trained on ``train_interactions()`` only (``matrix.train_matrix``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.matrix import history_matrix, popularity_tiebreak, train_matrix

#: Tie-break scale: below any score a real co-occurrence gives (except decayed-away
#: ones older than ~15 items), yet above float32 resolution near 0, where ties pile up.
TIEBREAK = 1e-7


class CooccurrenceRecommender:
    """Sum of co-occurrence counts with the history items (diagonal zeroed)."""

    name = "cooccurrence"
    GRID: ClassVar[dict[str, list[Any]]] = {"decay": [1.0, 0.8, 0.6, 0.4]}

    def __init__(self, decay: float = 1.0, tiebreak: bool = True) -> None:
        """``decay``: history weight ``decay ** age`` (1 = all items equal);
        ``tiebreak``: order items with equal scores by training popularity."""
        self.decay, self.tiebreak = decay, tiebreak
        self._sim: sp.csr_matrix | None = None
        self._tb: np.ndarray | None = None

    @property
    def params(self) -> dict[str, Any]:
        return {"decay": self.decay, "tiebreak": self.tiebreak}

    def fit(self, dataset: Dataset) -> Self:
        x = train_matrix(dataset)
        co = (x.T @ x).tocsr()
        co.setdiag(0)
        co.eliminate_zeros()
        self._sim, self._tb = co.astype(np.float32), popularity_tiebreak(x)
        return self

    def score(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        return item_item_scores(
            self._sim, self._tb if self.tiebreak else None, histories, self.decay
        )


def item_item_scores(
    sim: sp.csr_matrix | np.ndarray | None,
    tiebreak: np.ndarray | None,
    histories: Sequence[Sequence[int]],
    decay: float,
) -> torch.Tensor:
    """``history_matrix(histories) @ sim`` as float32 torch, plus the scaled tie-break."""
    if sim is None:
        raise UserError("call fit(dataset) before score()")
    h = history_matrix(histories, sim.shape[0], decay)
    out = h @ sim
    dense = np.asarray(out.todense() if sp.issparse(out) else out, dtype=np.float32)
    if tiebreak is not None:
        dense += TIEBREAK * tiebreak
    return torch.from_numpy(np.ascontiguousarray(dense))
