"""Bad-input corpus for ``profilerec serve``: refused in one line before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

import profilerec.cli.loaders as loaders
from bad_input._inproc import no_model, run_main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--evaluation", "/nonexistent/eval"], "--evaluation /nonexistent/eval: cannot read"),
        (["--queue", "0"], "--queue must be at least 1"),
        (["--port", "70000"], "--port must be 0..65535, got 70000"),
        (["--profiles", "zs"], "--profiles needs NAME=DIR, got 'zs'"),
        (["--profiles", "zs=/nonexistent/p"], "--profiles zs=/nonexistent/p: no such folder"),
        (["--api-key-env", "PROFILEREC_UNSET_KEY"], "PROFILEREC_UNSET_KEY: that environment"),
        (["--no-generator", "--adapter", "run"], "--adapter needs a generator"),
    ],
)
def test_refused_before_models_load(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    args: list[str],
    message: str,
) -> None:
    pytest.importorskip("uvicorn")
    monkeypatch.setattr(loaders, "make_embedder", no_model)
    monkeypatch.setattr(loaders, "make_generator", no_model)
    monkeypatch.delenv("PROFILEREC_UNSET_KEY", raising=False)
    code, err = run_main(monkeypatch, capsys, "serve", demo_dataset, *args)
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert len(err.splitlines()) == 1


def test_unknown_dataset_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("uvicorn")
    code, err = run_main(monkeypatch, capsys, "serve", tmp_path / "nothing")
    assert code == 2 and err.startswith("error: ") and "nothing" in err, err
