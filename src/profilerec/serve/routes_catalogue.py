"""Health, readiness, items, methods and the user list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from profilerec.serve.deps import get_state
from profilerec.serve.schemas import Item, Methods, UserList
from profilerec.serve.types import ServeState

router = APIRouter()
State = Annotated[ServeState, Depends(get_state)]


@router.get("/health", tags=["ops"])
async def health() -> dict[str, str]:
    """The process answers (it may still be loading; see /ready)."""
    return {"status": "ok"}


@router.get(
    "/ready",
    tags=["ops"],
    responses={503: {"description": "still loading"}, 500: {"description": "loading failed"}},
)
async def ready(request: Request) -> JSONResponse:
    """200 once the dataset, vectors and models are loaded."""
    state: ServeState | None = getattr(request.app.state, "serve", None)
    error = getattr(request.app.state, "load_error", None)
    if error is not None:
        return JSONResponse({"ready": False, "detail": f"loading failed: {error}"}, 500)
    if not request.app.state.ready or state is None:
        return JSONResponse({"ready": False, "detail": "still loading"}, status_code=503)
    queue = request.app.state.queue
    return JSONResponse(
        {
            "ready": True,
            "users": len(state.users),
            "items": len(state.titles),
            "methods": state.methods(),
            "generator": state.generator.model_id if state.generator else None,
            "queue": {"pending": queue.pending, "capacity": queue.capacity, "done": queue.done},
        }
    )


@router.get(
    "/v1/items/{item_id}", tags=["catalogue"], responses={404: {"description": "unknown item"}}
)
def item(item_id: str, state: State) -> Item:
    row = state.ds.item_index.get(item_id)
    if row is None:
        raise HTTPException(404, f"unknown item {item_id!r}")
    data: dict[str, Any] = state.ds.items.row(row, named=True)
    return Item(
        item_id=item_id,
        title=state.titles[row],
        store=data.get("store"),
        categories=list(data.get("categories") or []),
        price=data.get("price"),
        description=data.get("description"),
        training_interactions=int(state.counts[row]),
    )


@router.get("/v1/methods", tags=["catalogue"])
def methods(state: State) -> Methods:
    """Methods for stored users and for ad-hoc histories, and the generator (if any)."""
    return Methods(
        user_methods=state.methods(),
        adhoc_methods=state.adhoc_methods(),
        labels=state.labels(),
        evaluation=state.evaluation,
        generator=state.generator.model_id if state.generator else None,
    )


@router.get("/v1/users", tags=["users"])
def users(
    state: State,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> UserList:
    """Served users (those with a test example) whose id starts with ``q``."""
    found = [u for u in state.users if u.lower().startswith(q.lower())]
    return UserList(users=found[:limit], total=len(found))
