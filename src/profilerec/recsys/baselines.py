"""The ID baselines a practitioner would ship instead of LLM profiles: one interface, a registry.

Every baseline learns from ``Dataset.train_interactions()`` only and scores the whole
catalogue for a batch of histories, so ``evaluate``, tuning, the hybrid and a server all
treat them alike::

    model = build_baseline("itemknn", decay=0.7).fit(dataset)
    scores = model.score([[3, 17, 5]])  # float32 [1, n_items], higher = better

Each model's documented defaults are its constructor defaults (``--no-tune`` uses them);
``GRID`` on each class is the small grid searched on the validation split
(``profilerec.recsys.tuning``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError

#: name -> "module:Class" (imported on first use, so importing this module stays cheap).
_REGISTRY: dict[str, str] = {
    "popularity": "profilerec.recsys.popularity:PopularityRecommender",
    "cooccurrence": "profilerec.recsys.cooccurrence:CooccurrenceRecommender",
    "itemknn": "profilerec.recsys.itemknn:ItemKNNRecommender",
    "ease": "profilerec.recsys.ease:EASERecommender",
    "als": "profilerec.recsys.implicit_mf:ALSRecommender",
    "bpr": "profilerec.recsys.implicit_mf:BPRRecommender",
    "sasrec": "profilerec.recsys.sasrec_baseline:SASRecRecommender",
}

#: Every registered baseline, in the order tables show them.
BASELINES: tuple[str, ...] = tuple(_REGISTRY)


@runtime_checkable
class IDRecommender(Protocol):
    """A recommender that sees item ids only (no text).

    ``fit`` reads ``dataset.train_interactions()`` only. ``score`` takes histories as
    catalogue item indices (``Dataset.item_index`` order), oldest -> newest, and returns
    float32 ``[len(histories), n_items]``, higher = better. The history is NOT masked
    here: the ranker masks it, so a caller can choose to allow repeat consumption.
    """

    name: str
    #: The hyper-parameter grid searched on validation (name -> candidate values).
    GRID: ClassVar[dict[str, list[Any]]]

    @property
    def params(self) -> dict[str, Any]:
        """The hyper-parameters this instance was built with (recorded in metrics.json)."""
        ...

    def fit(self, dataset: Dataset) -> Self: ...

    def score(self, histories: Sequence[Sequence[int]]) -> torch.Tensor: ...


def baseline_class(name: str) -> type[IDRecommender]:
    """The class registered under ``name``; a one-line error for an unknown name."""
    if name not in _REGISTRY:
        raise UserError(f"unknown ID baseline {name!r}; choose from {', '.join(BASELINES)}")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def build_baseline(name: str, **params: Any) -> IDRecommender:
    """An unfitted baseline; unknown parameter names are a one-line error."""
    cls = baseline_class(name)
    try:
        return cls(**params)
    except TypeError as err:
        raise UserError(f"baseline {name!r}: {err}") from err
