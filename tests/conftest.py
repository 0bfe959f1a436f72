"""Shared fixtures: the prepared demo dataset (built once per session) and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from _datasets import one_torch_thread  # noqa: F401  (a fixture shared by test folders)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded All_Beauty demo, prepared with the defaults."""
    from profilerec.data.prepare import PrepareConfig, demo_source, prepare

    out = tmp_path_factory.mktemp("demo") / "dataset"
    prepare(demo_source(), out, PrepareConfig())
    return out


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random chat LM saved as a transformers folder (built offline)."""
    from profilerec.llm.tiny import save_tiny_causal_lm

    return save_tiny_causal_lm(tmp_path_factory.mktemp("tiny_lm") / "lm")


@pytest.fixture(scope="session")
def tiny_st_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random sentence-transformers folder (built offline)."""
    from profilerec.embed.tiny import save_tiny_sentence_transformer

    return save_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny_st") / "st")
