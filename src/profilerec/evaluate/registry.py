"""The method registry: what each method name means, how it is fitted and how it scores.

``evaluate`` ranks every method through ``output``; ``serve`` rebuilds the methods an
evaluation reports through the same ``output``, with the ID-model parameters and fusion
weights that evaluation chose (``fit_as_evaluated``, ``tuning``); the report labels them
with ``label``. One name therefore means one thing on every surface (issue 37 item 3):
the server once called item-kNN + profile at weight 0.5 "hybrid" while the report's
hybrid was SASRec + mean_history at the weight tuned on validation (issue 33).

Names:

- an ID baseline (``ID_METHODS``): ``recsys.baselines`` at the parameters chosen on
  validation, scoring each example's whole past;
- ``history_text``: the embedded newest-first history titles;
- ``mean_history``: the mean of the history items' vectors;
- a profile set ``NAME``: its embedded profile; ``history+NAME``: profile, then history;
- ``hybrid``: the best ID baseline (on validation) fused with ``mean_history``;
  ``hybrid+NAME``: the same ID model fused with profile set ``NAME``; each at its weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.evaluate import methods as M

#: ID baselines (``profilerec.recsys.baselines``), tuned on validation.
ID_METHODS = ("popularity", "cooccurrence", "itemknn", "ease", "als", "bpr", "sasrec")
#: Methods that need no profile set; each set adds ``NAME``, ``history+NAME``, ``hybrid+NAME``.
BASE_METHODS = (*ID_METHODS, "history_text", "mean_history", "hybrid")

Kind = Literal["id", "history_text", "mean_history", "profile", "history+profile", "hybrid"]


@dataclass(frozen=True)
class Method:
    """One method name, parsed: its kind and, where it has one, the profile set it reads."""

    name: str
    kind: Kind
    #: The profile set read (``NAME``, ``history+NAME``, ``hybrid+NAME``).
    profile_set: str | None = None

    @property
    def text_side(self) -> str | None:
        """A hybrid's text method: ``mean_history`` or its profile set."""
        if self.kind != "hybrid":
            return None
        return self.profile_set or "mean_history"

    @property
    def is_vector(self) -> bool:
        """Ranked by cosine of a user vector (``rank_by_embeddings``), not by scores."""
        return self.kind in ("history_text", "mean_history", "profile", "history+profile")


def method(name: str) -> Method:
    """What ``name`` means; any name that is not a base method or built on one is a profile set."""
    if name in ID_METHODS:
        return Method(name, "id")
    if name in ("history_text", "mean_history"):
        return Method(name, name)  # type: ignore[arg-type]
    if name == "hybrid":
        return Method(name, "hybrid")
    if name.startswith("hybrid+"):
        return Method(name, "hybrid", name.removeprefix("hybrid+"))
    if name.startswith("history+"):
        return Method(name, "history+profile", name.removeprefix("history+"))
    return Method(name, "profile", name)


def evaluated_names(methods: Sequence[str], profile_sets: Sequence[str]) -> list[str]:
    """The methods ``evaluate`` runs, in the order it reports them: the configured base
    methods, then per profile set the set, ``history+SET`` and (with ``hybrid``) ``hybrid+SET``."""
    names = list(methods)
    for name in profile_sets:
        names += [name, f"history+{name}"] + ([f"hybrid+{name}"] if "hybrid" in methods else [])
    return names


def label(name: str, tuning: Mapping[str, Any] | None) -> str:
    """``name``, or for a fused method ``hybrid(ID + TEXT, w=W)`` from its tuning record,
    so a reader sees what a hybrid fuses wherever it is named."""
    record = (tuning or {}).get(name)
    if not isinstance(record, Mapping) or "text_method" not in record:
        return name
    weight = (record.get("chosen") or {}).get("weight")
    w = f", w={weight:g}" if isinstance(weight, int | float) else ""
    return f"hybrid({record.get('id_model', '?')} + {record['text_method']}{w})"


@dataclass
class Inputs:
    """What every method scores from, for one frame of examples.

    ``id_models`` are the fitted models that score these examples (the refitted ones when
    the evaluation refitted); ``id_histories`` defaults to each example's whole past
    (``recsys.sequences.sasrec_histories``), and a pasted history passes its own.
    """

    ds: Dataset
    examples: pl.DataFrame
    embedder: Embedder
    #: ``[n_items, dim]`` the embedder's raw item vectors, catalogue order.
    item_vecs: np.ndarray
    #: Profile set name -> its frame (``example_id``, ``profile``).
    profiles: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    id_models: Mapping[str, Any] = field(default_factory=dict)
    id_histories: list[list[int]] | None = None

    @cached_property
    def history_texts(self) -> list[str]:
        return M.history_for_embedding(self.ds, self.examples)

    @cached_property
    def histories(self) -> list[list[int]]:
        if self.id_histories is not None:
            return self.id_histories
        from profilerec.recsys.sequences import sasrec_histories

        return sasrec_histories(self.ds, self.examples)

    def profile_texts(self, name: str, frame: pl.DataFrame | None = None) -> list[str]:
        rows = self.examples if frame is None else frame
        return M.profile_texts(rows, self.profiles[name], name)

    def text_vectors(self, side: str, frame: pl.DataFrame) -> np.ndarray:
        """A hybrid's text side (``mean_history`` or a profile set) for the rows of ``frame``."""
        if side == "mean_history":
            vectors = M.mean_history(self.ds, frame, self.item_vecs).vectors
            assert vectors is not None
            return vectors
        return np.asarray(self.embedder.embed(self.profile_texts(side, frame), progress=False))


def output(
    m: Method, inputs: Inputs, *, weight: float | None = None, id_model: str | None = None
) -> M.MethodOutput:
    """Method ``m`` on ``inputs.examples``; a hybrid needs its ``weight`` and ``id_model``
    (evaluate's choices on validation, recorded in ``metrics.json``'s ``tuning``)."""
    if m.kind == "id":
        return M.MethodOutput(scores=M.id_scores(inputs.id_models[m.name], inputs.histories))
    if m.kind == "history_text":
        return M.embed_texts(inputs.embedder, inputs.history_texts)
    if m.kind == "mean_history":
        return M.mean_history(inputs.ds, inputs.examples, inputs.item_vecs)
    assert m.profile_set is not None or m.kind == "hybrid"
    if m.kind == "profile":
        return M.embed_texts(inputs.embedder, inputs.profile_texts(m.name))
    if m.kind == "history+profile":
        assert m.profile_set is not None
        texts = inputs.profile_texts(m.profile_set)
        joined = [
            M.profile_plus_history(p, h) for p, h in zip(texts, inputs.history_texts, strict=True)
        ]
        return M.embed_texts(inputs.embedder, joined)
    if weight is None or id_model is None:
        raise ValueError(f"{m.name}: a hybrid needs its weight and ID model")
    side = m.text_side
    assert side is not None
    vectors = inputs.text_vectors(side, inputs.examples)
    model = inputs.id_models[id_model]
    return M.fused_output(model, inputs.histories, vectors, inputs.item_vecs, weight)


def fit_as_evaluated(
    ds: Dataset, name: str, record: Mapping[str, Any], config: Mapping[str, Any]
) -> Any:
    """ID baseline ``name`` fitted as the evaluation that wrote ``record`` (its ``tuning``
    entry) and ``config`` (its ``config``) scored test with: the chosen parameters on
    the training data, or, where it refitted, the refit parameters on train + valid.

    Every baseline is deterministic given its parameters and seed (SASRec's early stopping
    included), so this is the evaluated model without saving any weights.
    """
    from profilerec.recsys.baselines import build_baseline

    fixed = M.fixed_params(name, int(config.get("seed", 0)), config.get("baseline_params"))
    refit = record.get("refit")
    if isinstance(refit, Mapping):
        return build_baseline(name, **(fixed | dict(refit["params"]))).fit(ds.with_valid_as_train())
    return build_baseline(name, **(fixed | dict(record["chosen"]))).fit(ds)
