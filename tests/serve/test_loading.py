"""The server answers from its first second: /health 200 and /ready 503 while loading,
/ready 500 with the error and the load-error hook when loading fails (issue 33)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx

from profilerec.errors import UserError
from profilerec.serve.app import create_app


def serving(app: Any) -> Any:
    """Serves ``app``; yields its base URL once /health answers (not /ready)."""
    from tests.serve.conftest import running

    return running(app, wait_for="/health")


def get(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.TransportError:
        return None


def until(check: Callable[[], bool], message: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


def test_health_and_ready_answer_while_loading() -> None:
    release = threading.Event()
    loaded = SimpleNamespace(users=["u1"], titles=["t"], methods=lambda: ["popularity"],
                             generator=None)  # fmt: skip

    def load() -> Any:
        assert release.wait(60), "the test never released the load"
        return loaded

    with serving(create_app(load)) as base:
        # loading: the process answers, is not ready, and routes needing the state say so
        assert get(f"{base}/health") == 200
        ready = httpx.get(f"{base}/ready", timeout=2)
        assert ready.status_code == 503 and ready.json()["detail"] == "still loading"
        users = httpx.get(f"{base}/v1/users", timeout=2)
        assert users.status_code == 503 and "still loading" in users.json()["detail"]
        release.set()
        until(lambda: get(f"{base}/ready") == 200, "/ready never turned 200")
        assert httpx.get(f"{base}/ready", timeout=2).json()["users"] == 1


def test_a_failed_load_is_reported_and_handed_to_the_hook() -> None:
    failures: list[BaseException] = []

    def load() -> Any:
        raise UserError("profiles 'x': no such folder")

    with serving(create_app(load, on_load_error=failures.append)) as base:
        until(lambda: bool(failures), "the load-error hook was never called")
        ready = httpx.get(f"{base}/ready", timeout=2)
        assert ready.status_code == 500
        assert ready.json()["detail"] == "loading failed: profiles 'x': no such folder"
    assert isinstance(failures[0], UserError)


def test_api_docs_load_only_local_assets() -> None:
    """/docs and /redoc reference files this server serves, never a CDN (issue 33)."""
    import re

    from profilerec.serve.app import docs_assets_dir

    assert docs_assets_dir() is not None, "fastapi-offline (the serve extra) is not installed"
    loaded = SimpleNamespace(users=[], titles=[], methods=lambda: [], generator=None)
    with serving(create_app(lambda: loaded)) as base:
        for page in ("/docs", "/redoc"):
            html = httpx.get(f"{base}{page}", timeout=5).text
            urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
            urls += re.findall(r"""url:\\s*['"]([^'"]+)['"]""", html)
            assert urls and all(u.startswith("/") for u in urls), (page, urls)
            assert "cdn" not in html.lower() and "fonts.googleapis" not in html
            for url in urls:
                got = httpx.get(f"{base}{url}", timeout=10)
                assert got.status_code == 200 and len(got.content) > 1000, url
