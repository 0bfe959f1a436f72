"""The stored users' rankings, made at load by ``evaluate``'s own calls.

Ranking one user at a time scores a ``[1, n_items]`` row where ``evaluate`` scores all
examples at once: float sums and ``torch.topk``'s order among tied scores can then differ,
and item-kNN's many tied zeros made 73 of 253 demo users' top-10 differ. So every stored
user's ranking is made here once, exactly as ``evaluate`` makes it: text methods by
``rank_by_embeddings`` on the embedder's raw vectors, ID models by ``rank_by_scores`` over
``sasrec_histories``, each hybrid by ``recsys.hybrid.fuse`` of the two, all users in one
call, k = evaluate's largest cut-off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from profilerec.retrieval import rank_by_embeddings, rank_by_scores

if TYPE_CHECKING:
    from profilerec.serve.state import ServeState


def rank_stored_users(state: ServeState, raw: dict[str, np.ndarray], item_raw: np.ndarray) -> None:
    """Fill ``state.ranked`` (and ``id_histories``, ``ranked_weight``).

    ``raw``: method -> the embedder's vectors of the stored users (``history_text``,
    ``mean_history``, ``profile:NAME``); ``item_raw``: the catalogue's.
    """
    from profilerec.evaluate.stage import EvaluateConfig
    from profilerec.recsys.hybrid import fuse
    from profilerec.recsys.sequences import sasrec_histories
    from profilerec.serve.state import HYBRID_ID_MODEL

    hist = state.id_histories = sasrec_histories(state.ds, state.examples)
    targets, seen, n = state.targets, state.seen, len(state.users)
    k = min(max(EvaluateConfig().ks), len(item_raw))
    ranked = {m: rank_by_embeddings(v, item_raw, targets, seen, k=k).topk for m, v in raw.items()}
    for name, model in state.baselines.items():
        ranked[name] = rank_by_scores(
            lambda a, b, model=model: model.score(hist[a:b]), n, targets, seen, k=k
        ).topk
    if HYBRID_ID_MODEL in state.baselines:
        model, w = state.baselines[HYBRID_ID_MODEL], state.hybrid_weight
        items = F.normalize(torch.from_numpy(item_raw).float(), dim=1)
        for name in state.profile_sets:
            users = torch.from_numpy(np.asarray(raw[f"profile:{name}"], dtype=np.float32))
            text = F.normalize(users, dim=1) @ items.T  # as evaluate.methods.hybrid

            def fused(a: int, b: int, text: torch.Tensor = text) -> torch.Tensor:
                return fuse(model.score(hist[a:b]), text[a:b], w)

            ranked[f"hybrid:{name}"] = rank_by_scores(fused, n, targets, seen, k=k).topk
    state.ranked, state.ranked_weight = ranked, w if HYBRID_ID_MODEL in state.baselines else None
