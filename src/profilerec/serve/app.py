"""The FastAPI app: a factory, the lifespan that loads state once, and error handling.

Every client mistake answers a 4xx JSON body ``{"detail": ...}``; a 500 means a bug.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from profilerec.errors import UserError
from profilerec.serve.queue import GenerationQueue, QueueFull
from profilerec.serve.types import ServeState

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
    on_load_error: Callable[[BaseException], None] | None = None,
) -> FastAPI:
    """``load`` builds the state (models and vectors), once per process, in a thread.

    The server answers from its first second: ``/health`` 200, ``/ready`` 503 and every
    route needing the state 503 "still loading" until ``load`` returns. A failed load
    answers ``/ready`` 500 with the error and calls ``on_load_error`` (``run_server``
    stops the server and re-raises it, so the command exits with the error).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ready = False
        app.state.load_error = None
        app.state.queue = GenerationQueue(queue_capacity)
        task = asyncio.create_task(_load(app))
        try:
            yield
        finally:
            task.cancel()
            app.state.queue.close()

    async def _load(app: FastAPI) -> None:
        try:
            app.state.serve = await asyncio.to_thread(load)
        except Exception as exc:  # reported by /ready and on_load_error, never swallowed
            log.error("loading failed: %s", exc)
            app.state.load_error = exc
            if on_load_error is not None:
                on_load_error(exc)
            return
        app.state.ready = True

    app = FastAPI(
        title="profilerec",
        summary="Textual user profiles and the recommendations they retrieve",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # served below from local files: the page must work offline
        redoc_url=None,
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

    _api_docs(app)

    return app


#: Where /docs and /redoc load Swagger UI and ReDoc from (files of ``fastapi-offline``).
DOCS_ASSETS = "/docs-assets"


def docs_assets_dir() -> Path | None:
    """The Swagger UI / ReDoc files shipped by the ``fastapi-offline`` package, if installed."""
    try:
        folder = resources.files("fastapi_offline") / "static"
    except ModuleNotFoundError:
        return None
    path = Path(str(folder))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def _api_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc (ReDoc) from local files: no CDN, works offline."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

    assets = docs_assets_dir()
    if assets is not None:
        app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")
    missing = HTMLResponse(
        "<p>API docs need the fastapi-offline package (pip install 'profilerec[serve]'); "
        "the schema is at <a href=/openapi.json>/openapi.json</a>.</p>",
        status_code=503,
    )

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        if assets is None:
            return missing
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        if assets is None:
            return missing
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        # ReDoc's bundle draws its own logo from cdn.redoc.ly (the one request a headless
        # Chromium test saw leave the server): images stay local, the page renders without it
        page.headers["Content-Security-Policy"] = "img-src 'self' data:"
        return page
