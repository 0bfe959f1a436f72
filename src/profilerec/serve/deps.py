"""Shared route dependencies: the loaded state and the API key check."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from profilerec.serve.types import ServeState

API_KEY_HEADER = "X-API-Key"
_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="Required on POST routes when the server has a key",
)


def get_state(request: Request) -> ServeState:
    state: ServeState | None = getattr(request.app.state, "serve", None)
    if state is None:
        raise HTTPException(503, "still loading; poll /ready")
    return state


def require_key(request: Request, key: str | None = Security(_header)) -> None:
    expected: str | None = request.app.state.api_key
    if expected is None:
        return
    if key is None or not secrets.compare_digest(key.encode(), expected.encode()):
        raise HTTPException(401, f"missing or wrong {API_KEY_HEADER} header")
