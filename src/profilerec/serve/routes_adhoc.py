"""Ad-hoc histories: write a profile with the generator, rank the catalogue for a history or profile."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from profilerec.serve.deps import get_state, require_key
from profilerec.serve.routes_users import to_response
from profilerec.serve.schemas import (
    ProfileRequest,
    ProfileResponse,
    Recommendations,
    RecommendRequest,
)
from profilerec.serve.types import ServeState

router = APIRouter(tags=["ad-hoc"], dependencies=[Depends(require_key)])
State = Annotated[ServeState, Depends(get_state)]
_ERRORS = {
    401: {"description": "missing or wrong API key"},
    413: {"description": "body too large"},
    503: {"description": "generation queue full (see Retry-After) or no generator"},
}


@router.post("/v1/profiles", responses=_ERRORS)
async def write_profile(body: ProfileRequest, request: Request, state: State) -> ProfileResponse:
    """Writes a profile of the history with the server's generator (queued, off the event loop)."""
    if state.generator is None:
        raise HTTPException(503, "this server was started without a generator (--no-generator)")
    start = time.perf_counter()
    profile = state.cached_profile(body.history)
    cached = profile is not None
    if profile is None:
        from profilerec.serve.recommend import generate_profile  # torch: not before the port binds

        profile = await request.app.state.queue.submit(generate_profile, state, body.history)
    index = state.ds.item_index
    return ProfileResponse(
        profile=profile,
        model_id=state.generator.model_id,
        catalogue_items=[h for h in body.history if h in index],
        seconds=round(time.perf_counter() - start, 3),
        cached=cached,
    )


@router.post(
    "/v1/recommendations", responses={**_ERRORS, 400: {"description": "bad method or input"}}
)
def recommend(body: RecommendRequest, state: State) -> Recommendations:
    """Ranks the catalogue for a history and/or a profile text; catalogue items in the history are masked."""
    if not body.history and not body.profile:
        raise HTTPException(422, "give a history, a profile, or both")
    from profilerec.serve.recommend import recommend_adhoc  # torch: not before the port binds

    method = body.method or ("profile" if body.profile else "history_text")
    ranked = recommend_adhoc(state, body.history, body.profile, method, body.k)
    return to_response(state, ranked, method, body.k)
