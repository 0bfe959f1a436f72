"""Choose a baseline's hyper-parameters on the VALIDATION split by a small grid.

Each grid point is fitted on ``train_interactions()`` and scored on the validation
examples (full catalogue, the user's earlier items masked, NDCG@10). The test split is
never read here: validation histories, masks and targets come from
``dataset.split("valid")`` only (a test patches ``split`` to fail on "test").
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.baselines import IDRecommender, baseline_class, build_baseline
from profilerec.recsys.sequences import sasrec_histories
from profilerec.retrieval.metrics import NDCG
from profilerec.retrieval.scoring import ScoreChunk, rank_by_scores


@dataclass
class Validation:
    """The validation examples as a baseline sees them."""

    histories: list[list[int]]
    masks: list[list[int]]
    targets: list[int]

    @classmethod
    def of(cls, dataset: Dataset, examples: pl.DataFrame | None = None) -> Validation:
        """The validation split, or ``examples`` (some of its rows) when given."""
        valid = (dataset.split("valid") if examples is None else examples).sort("example_id")
        if valid.is_empty():
            raise UserError("tuning needs validation examples, but the dataset has none")
        index = dataset.item_index
        return cls(
            histories=sasrec_histories(dataset, valid),
            masks=dataset.seen_before(valid),
            targets=[index[i] for i in valid["item_id"]],
        )

    def ndcg10_per_user(self, model: IDRecommender, chunk_size: int = 1024) -> np.ndarray:
        return self.ndcg10_of(lambda a, b: model.score(self.histories[a:b]), chunk_size)

    def ndcg10_of(self, score_chunk: ScoreChunk, chunk_size: int = 1024) -> np.ndarray:
        """Per-example validation NDCG@10 of ``score_chunk(start, stop)`` (rows of this set)."""
        res = rank_by_scores(
            score_chunk,
            len(self.targets),
            self.targets,
            self.masks,
            k=10,
            chunk_size=chunk_size,
        )
        return NDCG(10).per_user(res.target_ranks)


@dataclass
class TuneResult:
    """What metrics.json records: the grid searched, every point's score, the choice."""

    name: str
    grid: dict[str, list[Any]]
    trials: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[str, Any] = field(default_factory=dict)
    valid_ndcg10: float = float("nan")
    #: The stages of a coordinate search, in order (empty: one full grid).
    stages: list[dict[str, list[Any]]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "grid": self.grid,
            **({"stages": self.stages} if self.stages else {}),
            "trials": self.trials,
            "chosen": self.chosen,
            "valid_ndcg@10": self.valid_ndcg10,
        }


def grid_points(grid: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def tune(
    name: str,
    dataset: Dataset,
    *,
    grid: dict[str, list[Any]] | None = None,
    fixed: dict[str, Any] | None = None,
    validation: Validation | None = None,
    tune_grid: bool = True,
) -> tuple[IDRecommender, TuneResult]:
    """Fit every grid point (``GRID`` of the class unless ``grid``), keep the best on
    validation NDCG@10 (first point wins ties). ``tune_grid=False`` fits the documented
    defaults only, still scored on validation so the best ID model can be picked.

    A class with ``GRID_STAGES`` is searched stage by stage (coordinate search): each stage's
    grid around the best point so far, so width x depth x lr x dropout costs the sum of the
    stages' sizes, not their product; a point already fitted is not fitted again."""
    cls = baseline_class(name)
    if not tune_grid:
        stages: list[dict[str, list[Any]]] = [{}]
    elif grid is not None:
        stages = [dict(grid)]
    else:
        stages = [dict(g) for g in (getattr(cls, "GRID_STAGES", None) or [cls.GRID])]
    merged = {k: list(v) for stage in stages for k, v in stage.items()}
    validation = validation or Validation.of(dataset)
    result = TuneResult(name=name, grid=merged, stages=stages if len(stages) > 1 else [])
    best: IDRecommender | None = None
    around: dict[str, Any] = {}
    fitted: list[dict[str, Any]] = []  # every fitted model's full parameters
    for stage in stages:
        for point in grid_points(stage):
            params = {**around, **point}
            model = build_baseline(name, **(fixed or {}), **params)
            if model.params in fitted:
                continue  # the best of an earlier stage: same fit, same score
            fitted.append(dict(model.params))
            model.fit(dataset)
            score = float(validation.ndcg10_per_user(model).mean())
            result.trials.append({"params": params, "valid_ndcg@10": score})
            if best is None or score > result.valid_ndcg10:
                best, result.valid_ndcg10 = model, score
                result.chosen = dict(model.params)
        around = {k: result.chosen[k] for s in stages[: stages.index(stage) + 1] for k in s}
    assert best is not None  # grid_points of an empty grid is one empty point
    return best, result
