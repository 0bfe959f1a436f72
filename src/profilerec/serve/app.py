"""The FastAPI app: a factory, the lifespan that loads state once, and error handling.

Every client mistake answers a 4xx JSON body ``{"detail": ...}``; a 500 means a bug.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from profilerec.errors import UserError
from profilerec.serve.queue import GenerationQueue, QueueFull
from profilerec.serve.state import ServeState

log = logging.getLogger("profilerec.serve")
#: Largest request body accepted (bytes): a 200-item history of 300-character titles fits.
MAX_BODY = 256 * 1024


class BodyLimit:
    """Pure ASGI middleware: 413 for a body over ``limit`` bytes, declared or streamed.

    Hand-written because Starlette has no body cap and uvicorn bounds headers only. A body
    without Content-Length (chunked) is read here first, at most ``limit`` bytes, then
    replayed: an error raised inside the app's own read would be turned into a 400.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await self._refuse(send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body over {self.limit} bytes"}, status_code=413
        )
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def create_app(
    load: Callable[[], ServeState],
    *,
    api_key: str | None = None,
    queue_capacity: int = 4,
    max_body: int = MAX_BODY,
) -> FastAPI:
    """``load`` builds the state at start-up (models and vectors), once per process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ready = False
        app.state.serve = load()
        app.state.queue = GenerationQueue(queue_capacity)
        app.state.ready = True
        try:
            yield
        finally:
            app.state.queue.close()

    app = FastAPI(
        title="profilerec",
        summary="Textual user profiles and the recommendations they retrieve",
        version="1",
        lifespan=lifespan,
    )
    app.state.api_key = api_key
    app.state.ready = False
    app.add_middleware(BodyLimit, limit=max_body)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(QueueFull)
    async def queue_full(request: Request, exc: QueueFull) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default body, minus the echoed input (it may be a 256 KB history).
        errors: list[dict[str, Any]] = [
            {k: v for k, v in e.items() if k not in ("input", "ctx", "url")} for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    from profilerec.serve import routes_adhoc, routes_catalogue, routes_users

    app.include_router(routes_catalogue.router)
    app.include_router(routes_users.router)
    app.include_router(routes_adhoc.router)

    static = resources.files("profilerec.serve") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(str(static / "index.html"))

    return app
