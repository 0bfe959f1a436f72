"""Fixtures of the write-rule and input-check cases (issue 32)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bad_input._inproc import no_model, run_main


@pytest.fixture
def data_copy(demo_dataset: Path, tmp_path: Path) -> Path:
    """A copy of the demo dataset that a test may write beside (the session one is shared)."""
    copy = tmp_path / "data"
    shutil.copytree(demo_dataset, copy)
    return copy


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``profilerec ARGS`` in this process -> (exit code, stderr); every model loader refused."""
    import profilerec.cli.evaluate as evaluate_cli
    import profilerec.cli.profile as profile_cli

    monkeypatch.setattr(profile_cli, "make_runner", no_model)
    monkeypatch.setattr(profile_cli, "make_generator", no_model)
    monkeypatch.setattr(evaluate_cli, "make_engine_embedder", no_model)
    monkeypatch.setattr("profilerec.embed.load_embedder", no_model)
    return lambda *args: run_main(monkeypatch, capsys, *args)


@pytest.fixture
def model_free_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``profilerec ARGS`` in this process, with ``PreTrainedModel.__init__`` (the base of
    every transformers model: the profiler's, the sentence-transformers embedder's) patched to
    fail, so a case refused only after a model was built is another error."""
    from transformers.modeling_utils import PreTrainedModel

    monkeypatch.setattr(PreTrainedModel, "__init__", no_model)
    return lambda *args: run_main(monkeypatch, capsys, *args)
