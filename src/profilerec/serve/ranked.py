"""The stored users' rankings, made at load by ``evaluate``'s own calls.

Ranking one user at a time scores a ``[1, n_items]`` row where ``evaluate`` scores all
examples at once: float sums and ``torch.topk``'s order among tied scores can then differ,
and item-kNN's many tied zeros made 73 of 253 demo users' top-10 differ. So every served
method is built by the registry (``evaluate.registry.output``) over all stored users and
ranked here once, exactly as ``evaluate`` ranks it: vector methods by
``rank_by_embeddings`` on the embedder's raw vectors, the others by ``rank_by_scores``,
k = evaluate's largest cut-off, in evaluate's chunks.
"""

from __future__ import annotations

import polars as pl
import torch
import torch.nn.functional as F

from profilerec.evaluate import registry as R
from profilerec.evaluate.methods import MethodOutput
from profilerec.retrieval import rank_by_embeddings, rank_by_scores
from profilerec.serve.types import Served, ServeState


def stored_inputs(state: ServeState) -> R.Inputs:
    """The registry's inputs for the stored users (their served test examples)."""
    profiles = {name: s.frame for name, s in state.profile_sets.items()}
    return R.Inputs(
        state.ds,
        state.examples,
        state.embedder,
        state.item_raw,
        profiles,
        state.id_models,
        state.id_histories,
    )


def build_output(served: Served, inputs: R.Inputs) -> MethodOutput:
    return R.output(served.method, inputs, weight=served.weight, id_model=served.id_model)


def rank_stored_users(state: ServeState, k: int, chunk_size: int) -> None:
    """Fill ``state.outputs`` and ``state.ranked`` for every served method."""
    inputs = stored_inputs(state)
    n, targets, seen = len(state.users), state.targets, state.seen
    k = min(k, len(state.item_raw))
    for name, served in state.served.items():
        out = state.outputs[name] = build_output(served, inputs)
        if out.vectors is not None:
            res = rank_by_embeddings(
                out.vectors, state.item_raw, targets, seen, k=k, chunk_size=chunk_size
            )
        else:
            assert out.scores is not None
            res = rank_by_scores(out.scores, n, targets, seen, k=k, chunk_size=chunk_size)
        state.ranked[name] = res.topk


def row_scores(state: ServeState, out: MethodOutput, row: int) -> torch.Tensor:
    """One row's score per catalogue item: cosine to the normalised items for a vector
    method (what the page shows), the method's own scores otherwise."""
    if out.vectors is not None:
        vec = torch.as_tensor(out.vectors[row], dtype=torch.float32)
        return state.item_vecs @ F.normalize(vec, dim=0)
    assert out.scores is not None
    return torch.as_tensor(out.scores(row, row + 1), dtype=torch.float32).reshape(-1)


def topk(scores: torch.Tensor, seen: list[int], target: int, k: int) -> list[int]:
    """Top-k by the shared ranker: the masked items out, the target kept rankable."""
    row = scores.reshape(1, -1)
    result = rank_by_scores(lambda s, e: row, 1, [target], [seen], k=min(k, row.shape[1]))
    return [int(i) for i in result.topk[0] if i >= 0]


def adhoc_frame(history: list[str]) -> pl.DataFrame:
    """An examples-shaped frame for a pasted history (catalogue ids or free-text titles).

    The stored renderers then treat it like any example: an id shows its catalogue
    title, any other string is shown as given (``Dataset.history_entries`` falls back
    to the string when no title joins).
    """
    from profilerec.serve.types import ADHOC_USER

    return pl.DataFrame(
        {"example_id": [-1], "user_id": [ADHOC_USER], "history": [history]},
        schema={"example_id": pl.Int64, "user_id": pl.String, "history": pl.List(pl.String)},
    )
