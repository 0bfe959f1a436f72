"""Fixtures for the embedder tests: the shared OpenAI-compatible test server, as a factory.

The tiny SentenceTransformer folder is the session fixture ``tiny_st_dir`` in tests/conftest.py.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def _load_server_module() -> ModuleType:
    # Loaded by path: under --import-mode=importlib the tests folder is not on sys.path.
    path = Path(__file__).resolve().parents[1] / "openai_server.py"
    spec = importlib.util.spec_from_file_location("profilerec_tests_openai_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


openai_server_module = _load_server_module()


@pytest.fixture
def openai_server() -> Iterator[Callable[..., Any]]:
    """``openai_server(**options)`` starts an OpenAIServer on 127.0.0.1, stopped after the test."""
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(openai_server_module.OpenAIServer(**options))


@pytest.fixture
def embedding_for() -> Callable[[str, int], list[float]]:
    """The server's vector for a text: ``embedding_for(text, dim)``."""
    return openai_server_module.embedding_for
