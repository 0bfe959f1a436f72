"""``profilerec serve``: an HTTP API (FastAPI + uvicorn) and an offline web page."""

from __future__ import annotations

from profilerec.serve.app import create_app
from profilerec.serve.run import ServeConfig, run_server

__all__ = ["ServeConfig", "create_app", "run_server"]
