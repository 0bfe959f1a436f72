"""``profilerec qa`` through ``main``: user mistakes exit 2 before the reader loads; a tiny run works."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from profilerec.cli import main
from qa.conftest import small_dataset

NO_MODEL = "transformers:/nonexistent/model"


def run(monkeypatch: pytest.MonkeyPatch, *args: str | Path) -> int:
    monkeypatch.setattr(sys, "argv", ["profilerec", "qa", *map(str, args)])
    try:
        main()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--task", "rank"], "unknown task"),
        (["--reader", "openai:m@http://127.0.0.1:9/v1"], "log-probabilities"),
        (["--reference", "zero_shot"], "--reference 'zero_shot' is not a context"),
        (["--limit", "-1"], "--limit"),
    ],
)
def test_mistakes_exit_2_before_the_reader_loads(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    data = small_dataset(tmp_path / "data")
    code = run(monkeypatch, data.root, "--out", tmp_path / "qa", "--reader", NO_MODEL, *extra)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "nonexistent" not in err, err
    assert not (tmp_path / "qa").exists()


def test_a_tiny_run_writes_the_folder_and_prints_the_table(
    tmp_path: Path,
    tiny_lm_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROFILEREC_CACHE", str(tmp_path / "cache"))
    data = small_dataset(tmp_path / "data")
    out = tmp_path / "qa"
    args = [data.root, "--out", out, "--reader", f"transformers:{tiny_lm_dir}", "--limit", "2"]
    assert run(monkeypatch, *args, "--dtype", "float32") == 0
    printed = capsys.readouterr().out
    assert "user_mean" in printed and "choice" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_examples"] == 2 and (out / "report.html").is_file()
