"""A stored user's history, profiles and recommendations."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Query

from profilerec.serve.deps import get_state
from profilerec.serve.schemas import (
    MAX_K,
    HistoryEntry,
    Recommendation,
    Recommendations,
    StoredProfile,
    User,
)
from profilerec.serve.types import Ranked, ServeState

router = APIRouter(tags=["users"])
State = Annotated[ServeState, Depends(get_state)]
_404 = {404: {"description": "unknown user"}}


def _row(state: ServeState, user_id: str) -> int:
    row = state.user_row.get(user_id)
    if row is None:
        raise HTTPException(404, f"unknown user {user_id!r} (served users are the test split's)")
    return row


@router.get(
    "/v1/users/{user_id:path}/recommendations",
    responses={**_404, 400: {"description": "unknown method"}},
)
def user_recommendations(
    user_id: str,
    state: State,
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    method: str | None = None,
) -> Recommendations:
    """Top-k over the whole catalogue with the user's earlier items masked; a reason per item."""
    from profilerec.serve.recommend import recommend_user  # torch: not before the port binds

    row = _row(state, user_id)
    method = method or state.methods()[0]
    ranked = recommend_user(state, user_id, method, k)
    target = state.examples["item_id"][row]
    out = to_response(state, ranked, method, k)
    out.next_item_id = target
    ids = [r.item_id for r in out.items]
    out.next_item_rank_in_topk = ids.index(target) + 1 if target in ids else None
    return out


# ``:path``: an id holding "/" (sent as %2F, which the server decodes) is served too; the
# recommendations route is declared first, so ".../recommendations" is never read as an id.
@router.get("/v1/users/{user_id:path}", responses=_404)
def user(user_id: str, state: State) -> User:
    """History before the held-out item (oldest first), stored profiles with provenance."""
    row = _row(state, user_id)
    example = state.examples.row(row, named=True)
    before = (
        state.ds.interactions.filter(
            (pl.col("user_id") == user_id) & (pl.col("timestamp") < example["timestamp"])
        )
        .sort("timestamp")
        .select("item_id", "rating", "timestamp")
    )
    index = state.ds.item_index
    history = [
        HistoryEntry(title=state.titles[index[r["item_id"]]], **r)
        for r in before.iter_rows(named=True)
        if r["item_id"] in index
    ]
    profiles = [
        StoredProfile(
            name=name,
            profile=s.rows[user_id]["profile"],
            provenance={
                k: v for k, v in s.rows[user_id].items() if k not in ("profile", "user_id")
            },
        )
        for name, s in state.profile_sets.items()
    ]
    target = example["item_id"]
    return User(
        user_id=user_id,
        history=history,
        profiles=profiles,
        next_item=HistoryEntry(
            item_id=target, title=state.titles[index[target]], timestamp=example["timestamp"]
        ),
    )


def to_response(state: ServeState, ranked: Ranked, method: str, k: int) -> Recommendations:
    ids = state.ds.item_ids
    return Recommendations(
        method=method,
        label=state.labels().get(method, method),
        k=k,
        items=[
            Recommendation(rank=n, item_id=ids[i], title=state.titles[i], score=s, why=w)
            for n, (i, s, w) in enumerate(
                zip(ranked.items, ranked.scores, ranked.why, strict=True), start=1
            )
        ],
    )
