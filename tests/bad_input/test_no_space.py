"""Bad-input corpus, issue 32: a full disk is "no space left on device: PATH" (it was once
"cannot read an input file (corrupt ...)"), and evaluate's previous folder stays whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import profilerec.cli.evaluate as evaluate_cli
from _embedders import KeywordEmbedder
from bad_input._writes import snapshot


@pytest.mark.parametrize(
    "raised",
    [
        OSError(28, "No space left on device"),
        pl.exceptions.ComputeError("parquet: underlying IO error: No space left (os error 28)"),
    ],
)
def test_a_full_disk_is_named_and_the_old_evaluation_kept(
    monkeypatch: pytest.MonkeyPatch, cli: Any, data_copy: Path, raised: BaseException
) -> None:
    old = data_copy.parent / "eval"
    old.mkdir()
    (old / "metrics.json").write_text('{"metrics": {}}')
    (old / "ranks.parquet").write_bytes(b"old ranks")
    (old / "report.html").write_text("<html>old report</html>")
    before = snapshot(old)

    def full(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(evaluate_cli, "make_engine_embedder", lambda *a: KeywordEmbedder())
    monkeypatch.setattr("profilerec.cli.report.write_report", full)
    code, err = cli("evaluate", data_copy, "--out", old, "--method", "popularity", "--no-tune")
    assert code == 2 and err.splitlines()[-1] == f"error: no space left on device: {old}", err
    assert snapshot(old) == before
    assert sorted(p.name for p in old.parent.iterdir()) == ["data", "eval"]
