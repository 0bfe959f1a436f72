"""Fixtures: the tiny offline chat model (saved once per session) and the OpenAI test server."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from profilerec.llm.hf import TransformersGenerator
from profilerec.llm.tiny import save_tiny_causal_lm


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="session")
def tiny_generator(tiny_model_dir: Path) -> TransformersGenerator:
    return TransformersGenerator(str(tiny_model_dir), batch_size=2, dtype="float32")


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The tiny model gains nothing from threads, and on a busy 2-core machine OpenMP
    threads spinning against other processes make each test ~10x slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _server_module() -> ModuleType:
    # Loaded by path, under the same name as tests/embed does: with --import-mode=importlib
    # the tests folder is not on sys.path.
    name = "profilerec_tests_openai_server"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parents[1] / "openai_server.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def server_module() -> ModuleType:
    """tests/openai_server.py: ``OpenAIServer``, ``reply_for``, ``embedding_for``."""
    return _server_module()


@pytest.fixture
def openai_server(server_module: ModuleType) -> Iterator[Callable[..., Any]]:
    """``openai_server(**options)`` starts an OpenAIServer on 127.0.0.1, stopped after the test."""
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(server_module.OpenAIServer(**options))
