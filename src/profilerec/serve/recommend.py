"""Answering a request: a stored user's or a pasted history's top-k, each with its reason.

Every method is the registry's (``evaluate.registry``): a stored user's top-k is the
load-time ranking (``serve.ranked``), equal to evaluate's ``ranks.parquet``; a pasted
history is built by the same ``registry.output`` on a one-row frame and ranked alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import torch

from profilerec.errors import UserError
from profilerec.evaluate import registry as R
from profilerec.evaluate.methods import MethodOutput
from profilerec.serve.ranked import adhoc_frame, build_output, row_scores, topk
from profilerec.serve.types import PASTED, Ranked, Served, ServeState

#: What a vector method's cosine is to, per registry kind.
_COSINE_TO = {
    "history_text": "history text",
    "mean_history": "mean of history items",
    "profile": "profile",
    "history+profile": "profile and history text",
}


def recommend_user(state: ServeState, user_id: str, method: str, k: int) -> Ranked:
    """A stored user's top-k: the load-time ranking, or ranked per request for a larger k."""
    state.check_method(method)
    row = state.user_row[user_id]
    served, out = state.served[method], state.outputs[method]
    scores = row_scores(state, out, row)
    top = state.ranked.get(method)
    if top is not None and k <= top.shape[1]:
        items = [int(i) for i in top[row][:k] if i >= 0]
    else:
        items = topk(scores, state.seen[row], state.targets[row], k)
    return _explained(state, served, out, row, items, scores, state.id_histories[row])


def recommend_adhoc(
    state: ServeState, history: Sequence[str], profile: str | None, method: str, k: int
) -> Ranked:
    """A pasted history's (and pasted profile's) top-k by any method that needs no stored
    profile, built by the registry as for a stored user; the pasted items are masked."""
    if method not in state.adhoc_methods():
        raise UserError(
            f"unknown method {method!r}; choose one of {', '.join(state.adhoc_methods())}"
        )
    index = state.ds.item_index
    seen = sorted({index[h] for h in history if h in index})
    taken = set(seen)
    # any unmasked item is the shared ranker's target: a pasted history has no real one,
    # and an unmasked item is ranked like every other, so the choice changes nothing
    target = next((i for i in range(len(state.titles)) if i not in taken), None)
    if target is None:
        return Ranked([], [], [])
    served = _adhoc_served(state, method)
    m = served.method
    if m.profile_set is not None and not profile:
        raise UserError(f"method {method!r} needs a profile text")
    if m.kind != "profile" and not history:
        raise UserError(f"method {method!r} needs a history")
    ordered = [index[h] for h in history if h in index]
    if m.kind in ("id", "hybrid") and not ordered:
        raise UserError(f"method {method!r} needs catalogue items in the history")
    frame = adhoc_frame(list(history))
    pasted = pl.DataFrame({"example_id": [-1], "profile": [profile or ""]})
    inputs = R.Inputs(
        state.ds,
        frame,
        state.embedder,
        state.item_raw,
        {PASTED: pasted},
        state.id_models,
        [ordered],
    )
    out = build_output(served, inputs)
    scores = row_scores(state, out, 0)
    return _explained(state, served, out, 0, topk(scores, seen, target, k), scores, ordered)


def _adhoc_served(state: ServeState, method: str) -> Served:
    """``hybrid+profile`` fuses the pasted profile with the first served profile hybrid's
    ID model at its weight; every other ad-hoc method is a served one or a pasted profile."""
    if method in state.served:
        return state.served[method]
    m = R.method(method)
    if m.kind != "hybrid":
        return Served(m, method)
    like = state.adhoc_hybrid()
    assert like is not None
    return Served(m, f"{method} (as {like.method.name})", like.weight, like.id_model)


def _explained(
    state: ServeState,
    served: Served,
    out: MethodOutput,
    row: int,
    items: list[int],
    scores: torch.Tensor,
    history: list[int],
) -> Ranked:
    values = [float(scores[i]) for i in items]
    m = served.method
    if m.is_vector:
        what = _COSINE_TO[m.kind]
        return Ranked(items, values, [f"cosine {v:.3f} to the {what}" for v in values])
    if m.kind == "hybrid":
        return Ranked(items, values, _hybrid_why(served, out, row, items, values))
    if m.name == "popularity":
        return Ranked(
            items, values, [f"{int(state.counts[i])} training interactions" for i in items]
        )
    why = [f"score {v:.3f}" for v in values]
    model = state.id_models[m.name]
    if hasattr(model, "explain") and history:
        because = model.explain(history, items)
        why = [
            f"because of {state.titles[b]}" if b is not None and b >= 0 else w
            for b, w in zip(because, why, strict=True)
        ]
    return Ranked(items, values, why)


def _hybrid_why(
    served: Served, out: MethodOutput, row: int, items: list[int], values: list[float]
) -> list[str]:
    """Each fused score as the sum it is: (1 - w) z(ID score) + w z(text cosine), both
    z-scored over the catalogue (``recsys.hybrid.fuse``)."""
    from profilerec.recsys.hybrid import zscore

    parts = out.fused
    assert parts is not None
    w, id_name, side = parts.weight, served.id_model, served.method.text_side
    if w in (0.0, 1.0):  # fuse returns one side's raw scores
        what = f"{id_name} score" if w == 0.0 else f"{side} cosine"
        return [f"{what} {v:.3f} (hybrid weight {w:g})" for v in values]
    id_row = torch.as_tensor(parts.id_scores(row, row + 1), dtype=torch.float32).reshape(1, -1)
    text_row = parts.text_scores[row : row + 1]
    z_id, z_text = zscore(id_row)[0], zscore(text_row)[0]
    return [
        f"fused {v:.3f} = {1 - w:g} x {float(z_id[i]):.3f} ({id_name} {float(id_row[0, i]):.3f}, "
        f"z-scored) + {w:g} x {float(z_text[i]):.3f} ({side} cosine {float(text_row[0, i]):.3f}, "
        "z-scored)"
        for i, v in zip(items, values, strict=True)
    ]


def profile_prompt(state: ServeState, history: Sequence[str]) -> object:
    """The prompt the server's profiler writes for a pasted history (ids or titles)."""
    if state.profiler is None:
        raise UserError("this server was started without a generator")
    return state.profiler.prompt(list(history), state.ds)


def generate_profile(state: ServeState, history: Sequence[str]) -> str:
    """Blocking: runs the generator (call it from the generation queue, never the loop).

    Written by ``Profiler.profile`` (kept up to its last full sentence, as ``profile``
    stores it) and cached by history (``ServeState.cached_profile``): the same pasted
    history is written once.
    """
    if state.profiler is None:
        raise UserError("this server was started without a generator")
    text = state.profiler.profile(list(history), state.ds)
    state.cache_profile(history, text)
    return text
