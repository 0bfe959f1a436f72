"""ALS (Hu et al. 2008) and BPR (Rendle et al. 2009) matrix factorisation through ``implicit``.

The maintained library is used rather than a re-implementation. Both fit on the binary
``train_interactions()`` matrix (``matrix.train_matrix``). Scores for a history that is
not a training row (a test history includes the validation target) need a user vector:

- ALS folds the history in with the library's own exact least-squares step
  (``recalculate_user``), i.e. the user factor ALS itself would compute for that row;
- BPR has no fold-in in ``implicit``, so the user vector is the ridge projection of the
  binary history onto the item factors, u = (Q^T Q + l2 I)^-1 Q^T h (the classic MF
  folding-in), and the item bias BPR learns is added. Written by hand: a few lines.

BLAS is held to ``threads`` threads (``threadpoolctl``), as ``implicit`` asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.matrix import history_matrix, train_matrix


class _ImplicitBase:
    name = ""
    GRID: ClassVar[dict[str, list[Any]]] = {}

    def __init__(self, *, threads: int, seed: int, **params: Any) -> None:
        self.threads, self.seed, self._params = threads, seed, params
        self._model: Any = None

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)

    def _make(self) -> Any:
        raise NotImplementedError

    def fit(self, dataset: Dataset) -> Self:
        x = train_matrix(dataset)
        if x.nnz == 0:
            raise UserError(f"{self.name}: the dataset has no training interactions")
        with threadpool_limits(self.threads, "blas"):
            model = self._make()
            model.fit(x, show_progress=False)
        self._model = model
        return self

    def _user_vectors(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        raise NotImplementedError

    def score(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        if self._model is None:
            raise UserError("call fit(dataset) before score()")
        with threadpool_limits(self.threads, "blas"):
            users = self._user_vectors(histories)
            scores = users @ np.asarray(self._model.item_factors).T
        return torch.from_numpy(np.ascontiguousarray(scores, dtype=np.float32))


class ALSRecommender(_ImplicitBase):
    """Weighted ALS for implicit feedback (confidence 1 + alpha on observed pairs)."""

    name = "als"
    GRID: ClassVar[dict[str, list[Any]]] = {
        "factors": [32, 64, 128],
        "regularization": [0.01, 0.1, 1.0],
        "alpha": [1.0, 10.0],
    }

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.1,
        alpha: float = 1.0,
        iterations: int = 15,
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        """Defaults are ``implicit``'s except 64 factors and regularization 0.1."""
        super().__init__(
            threads=threads,
            seed=seed,
            factors=factors,
            regularization=regularization,
            alpha=alpha,
            iterations=iterations,
        )

    def _make(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            **self._params, num_threads=self.threads, random_state=self.seed
        )

    def _user_vectors(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        n_items = self._model.item_factors.shape[0]
        h = history_matrix([sorted(set(map(int, x))) for x in histories], n_items)
        return np.asarray(self._model.recalculate_user(np.arange(len(histories)), h))


class BPRRecommender(_ImplicitBase):
    """Pairwise-ranking MF (SGD on sampled negatives), histories folded in by ridge."""

    name = "bpr"
    GRID: ClassVar[dict[str, list[Any]]] = {
        "factors": [32, 64, 128],
        "learning_rate": [0.01, 0.05],
        "regularization": [0.001, 0.01],
    }

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        fold_in_l2: float = 1.0,
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        """Defaults are ``implicit``'s except 64 factors; ``fold_in_l2`` is the ridge
        weight of the history projection (not tuned: it rescales every user alike)."""
        self.fold_in_l2 = fold_in_l2
        super().__init__(
            threads=threads,
            seed=seed,
            factors=factors,
            learning_rate=learning_rate,
            regularization=regularization,
            iterations=iterations,
        )

    def _make(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            **self._params, num_threads=self.threads, random_state=self.seed
        )

    def _user_vectors(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        # implicit's CPU BPR keeps the item bias in the last factor column and a constant
        # 1 in the users' last column; project onto the other columns, then append the 1.
        q = np.asarray(self._model.item_factors, dtype=np.float64)[:, :-1]
        h = history_matrix([sorted(set(map(int, x))) for x in histories], q.shape[0])
        rhs = np.asarray(h @ q)  # row r: Q^T h_r
        gram = q.T @ q + self.fold_in_l2 * np.eye(q.shape[1])
        users = np.linalg.solve(gram, rhs.T).T
        return np.hstack([users, np.ones((len(histories), 1))]).astype(np.float32)
