"""The methods compared by ``evaluate``: each turns test examples into catalogue scores.

Text methods (history text, profiles, history + profile) embed one text per example
and rank items by cosine similarity; the others score items directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import torch

from profilerec.data.dataset import Dataset
from profilerec.data.text import render_history
from profilerec.embed.base import Embedder
from profilerec.errors import UserError

#: A method's output: user vectors to compare with item vectors, or a score function.
ScoreChunk = Callable[[int, int], torch.Tensor]


@dataclass
class MethodOutput:
    vectors: np.ndarray | None = None
    scores: ScoreChunk | None = None
    #: The text embedded per example (text methods only), for the report.
    texts: list[str] | None = None


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


def sasrec(
    ds: Dataset, examples: pl.DataFrame, *, seed: int = 0, progress: bool = True
) -> MethodOutput:
    from profilerec.recsys.sasrec import SASRecConfig, train_sasrec
    from profilerec.recsys.sequences import sasrec_histories

    config = SASRecConfig(seed=seed)
    model = train_sasrec(ds, config, progress=progress)
    histories = sasrec_histories(ds, examples, max_len=config.max_len)

    def score(start: int, stop: int) -> torch.Tensor:
        return model.score_histories(histories[start:stop])

    return MethodOutput(scores=score)
