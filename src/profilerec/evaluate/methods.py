"""The methods compared by ``evaluate``: each turns test examples into catalogue scores.

Text methods (history text, profiles, history + profile) embed one text per example
and rank items by cosine similarity; the others score items directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import torch

from profilerec.data.dataset import Dataset
from profilerec.data.text import render_history
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.recsys.baselines import build_baseline

#: A method's output: user vectors to compare with item vectors, or a score function.
ScoreChunk = Callable[[int, int], torch.Tensor]


#: ID baselines fitted with ``seed`` (the others are deterministic without one).
SEEDED = ("popularity", "als", "bpr", "sasrec")


@dataclass(frozen=True)
class FusedParts:
    """A hybrid's two sides, kept so a server can say what each added to a fused score."""

    #: The ID model's raw scores per row range.
    id_scores: ScoreChunk
    #: ``[n_examples, n_items]`` cosine of the text side's user vector to each item.
    text_scores: torch.Tensor
    weight: float


@dataclass
class MethodOutput:
    vectors: np.ndarray | None = None
    scores: ScoreChunk | None = None
    #: The text embedded per example (text methods only), for the report.
    texts: list[str] | None = None
    #: A hybrid's sides (``fused_output``), for explanations.
    fused: FusedParts | None = None


def history_for_embedding(ds: Dataset, examples: pl.DataFrame, max_items: int = 20) -> list[str]:
    """Titles only, newest first: an embedder truncating long input then drops the oldest items."""
    return [
        "Recently bought:\n"
        + render_history(list(reversed(e)), max_items=max_items, item_chars=80, with_reviews=False)
        for e in ds.history_entries(examples)
    ]


def profile_plus_history(profile: str, history: str, profile_chars: int = 500) -> str:
    """Profile (capped) first, then the newest-first history.

    Embedders truncate long input (MiniLM at 256 tokens); capping the profile keeps
    room for the history, and newest-first order means only the oldest items are cut.
    """
    if len(profile) > profile_chars:
        profile = profile[:profile_chars].rsplit(" ", 1)[0] + "..."
    return f"{profile}\n{history}"


def profile_texts(examples: pl.DataFrame, profiles: pl.DataFrame, name: str) -> list[str]:
    """Profiles aligned to ``examples`` by example_id; every example must have one."""
    by_id = dict(zip(profiles["example_id"], profiles["profile"], strict=True))
    missing = [e for e in examples["example_id"] if e not in by_id]
    if missing:
        raise UserError(
            f"profiles {name!r} lack {len(missing)} of {examples.height} evaluated examples "
            f"(first example_id {missing[0]}); profile the same split first"
        )
    return [by_id[e] for e in examples["example_id"]]


def embed_texts(embedder: Embedder, texts: list[str]) -> MethodOutput:
    return MethodOutput(vectors=embedder.embed(texts, progress=False), texts=texts)


def mean_history(ds: Dataset, examples: pl.DataFrame, item_vecs: np.ndarray) -> MethodOutput:
    """Mean of the (displayed) history items' embeddings."""
    index = ds.item_index
    out = np.zeros((examples.height, item_vecs.shape[1]), dtype=np.float32)
    for row, hist in enumerate(examples["history"]):
        idx = [index[i] for i in hist if i in index]
        if idx:
            out[row] = item_vecs[idx].mean(axis=0)
    return MethodOutput(vectors=out)


def popularity(ds: Dataset, examples: pl.DataFrame) -> MethodOutput:
    from profilerec.recsys.popularity import popularity_scores

    counts = popularity_scores(ds).astype(np.float64)
    # Counts tie a lot and the ranker counts ties in the target's favour; a seeded
    # jitter below 1 breaks them at random without reordering different counts.
    jitter = np.random.default_rng(0).uniform(0.0, 0.5, size=counts.shape)
    pop = torch.from_numpy(counts + jitter).float()
    return MethodOutput(scores=lambda start, stop: pop.expand(stop - start, -1))


def id_baselines(
    ds: Dataset,
    examples: pl.DataFrame,
    names: list[str],
    *,
    tune: bool = True,
    untuned: tuple[str, ...] = (),
    params: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    progress: bool = True,
    reuse: dict[str, Any] | None = None,
    refit_on: Dataset | None = None,
    refitted: dict[str, Any] | None = None,
) -> tuple[dict[str, MethodOutput], dict[str, Any], dict[str, Any]]:
    """Fit each ID baseline (grid-tuned on validation unless ``tune`` is False or the
    name is in ``untuned``). A baseline in ``reuse`` (an earlier evaluation's ``tuning``
    records on the same dataset) is fitted once at the parameters chosen there, and its
    record (grid, trials, validation score) is kept with ``reused_from`` added.

    ``refit_on`` (``Dataset.with_valid_as_train()``): after choosing on validation, each
    model is fitted again at the chosen parameters on that data, and ``examples`` are
    scored by the refitted model; the returned models stay the train-only fits, so
    anything else tuned on validation (the hybrid's weight) never sees its own targets;
    the refitted ones go into ``refitted`` (name -> model) when given.

    Returns the outputs on ``examples``, the fitted models, and per model what
    metrics.json records (grid, trials, chosen parameters, validation NDCG@10).
    """
    from profilerec.progress import progress_bar
    from profilerec.recsys.sequences import sasrec_histories
    from profilerec.recsys.tuning import Validation
    from profilerec.recsys.tuning import tune as tune_baseline

    validation = Validation.of(ds)
    histories = sasrec_histories(ds, examples)
    outputs: dict[str, MethodOutput] = {}
    models: dict[str, Any] = {}
    records: dict[str, Any] = {}
    with progress_bar("ID baselines", len(names), enabled=progress) as bar:
        for name in names:
            fixed = fixed_params(name, seed, params)
            earlier = (reuse or {}).get(name)
            if earlier is not None:
                models[name] = build_baseline(name, **(fixed | earlier["chosen"])).fit(ds)
                records[name] = dict(earlier)
            else:
                models[name], result = tune_baseline(
                    name,
                    ds,
                    fixed=fixed,
                    validation=validation,
                    tune_grid=tune and name not in untuned,
                )
                records[name] = result.as_json()
            scorer = models[name]
            if refit_on is not None:
                scorer, records[name]["refit"] = refit(models[name], name, fixed, refit_on)
                if refitted is not None:
                    refitted[name] = scorer
            outputs[name] = MethodOutput(scores=id_scores(scorer, histories))
            bar.advance()
    return outputs, models, records


def refit(model: Any, name: str, fixed: dict[str, Any], data: Dataset) -> tuple[Any, Any]:
    """``model``'s chosen parameters fitted again on ``data``; returns it and its record."""
    params = model.refit_params() if hasattr(model, "refit_params") else model.params
    again = build_baseline(name, **(fixed | params)).fit(data)
    return again, {"params": params, "on": "train + valid examples"}


def fixed_params(
    name: str, seed: int, params: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The parameters evaluate fixes for ``name`` at every grid point (seed, ``baseline_params``);
    a server refitting an evaluated baseline needs exactly these, or it fits another model."""
    return ({"seed": seed} if name in SEEDED else {}) | (params or {}).get(name, {})


def id_scores(model: Any, histories: list[list[int]]) -> ScoreChunk:
    """An ID model's scores for ``histories[start:stop]`` (each the whole past, oldest first)."""
    return lambda start, stop: model.score(histories[start:stop])


def _text_scores(vectors: np.ndarray, item_vecs: np.ndarray) -> torch.Tensor:
    """Cosine of each user vector to each item (both normalised), as the hybrid fuses it."""
    items = torch.nn.functional.normalize(torch.from_numpy(item_vecs).float(), dim=1)
    users = torch.from_numpy(np.asarray(vectors, dtype=np.float32))
    return torch.nn.functional.normalize(users, dim=1) @ items.T


def fused_output(
    model: Any,
    histories: list[list[int]],
    text_vectors: np.ndarray,
    item_vecs: np.ndarray,
    w: float,
) -> MethodOutput:
    """``recsys.hybrid.fuse`` of ``model`` and a text side at weight ``w``: what ``evaluate``
    ranks a hybrid by and what ``serve`` ranks the same hybrid by."""
    from profilerec.recsys.hybrid import fuse

    text = _text_scores(text_vectors, item_vecs)
    scores = id_scores(model, histories)
    return MethodOutput(
        scores=lambda a, b: fuse(scores(a, b), text[a:b], w),
        fused=FusedParts(scores, text, w),
    )


def tune_hybrid_weight(
    ds: Dataset,
    model: Any,
    item_vecs: np.ndarray,
    text_vectors: Callable[[pl.DataFrame], np.ndarray],
    text_method: str,
    valid: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The fusion weight of ``model`` with a text method, chosen on validation; its record.

    ``text_vectors(frame)`` gives the text method's user vectors for the rows of ``frame``;
    the weight maximises validation NDCG@10 (smallest weight on ties), never test.
    ``valid`` narrows validation to some of its examples (a sampled profile set covers
    only those). ``chosen.weight`` is what ``fused_output`` then ranks test by.
    """
    from profilerec.recsys.hybrid import WEIGHTS
    from profilerec.recsys.tuning import Validation

    valid = (ds.split("valid") if valid is None else valid).sort("example_id")
    validation = Validation.of(ds, valid)
    v_vectors = text_vectors(valid)
    trials = []
    for w in WEIGHTS:
        fused = fused_output(model, validation.histories, v_vectors, item_vecs, w).scores
        assert fused is not None
        score = float(validation.ndcg10_of(fused).mean())
        trials.append({"weight": w, "valid_ndcg@10": score})
    best = max(trials, key=lambda t: (t["valid_ndcg@10"], -t["weight"]))
    return {
        "id_model": model.name,
        "text_method": text_method,
        "grid": {"weight": list(WEIGHTS)},
        "trials": trials,
        "chosen": {"weight": best["weight"]},
        "valid_ndcg@10": best["valid_ndcg@10"],
        "valid_examples": valid.height,
    }
