"""Most-popular baseline: the same scores for every user, from training counts only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl
import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError


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


class PopularityRecommender:
    """Most popular training items for everyone: the floor every method must clear.

    Counts tie a lot and the ranker counts ties in the target's favour, so a seeded
    jitter below 1 breaks them at random without reordering different counts.
    """

    name = "popularity"
    GRID: ClassVar[dict[str, list[Any]]] = {}

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._scores: torch.Tensor | None = None

    @property
    def params(self) -> dict[str, Any]:
        return {}

    def fit(self, dataset: Dataset) -> Self:
        counts = popularity_scores(dataset).astype(np.float64)
        jitter = np.random.default_rng(self.seed).uniform(0.0, 0.5, size=counts.shape)
        self._scores = torch.from_numpy(counts + jitter).float()
        return self

    def score(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        if self._scores is None:
            raise UserError("call fit(dataset) before score()")
        return self._scores.expand(len(histories), -1).clone()
