"""The qa stage prints plain progress lines when stderr is not a terminal (a log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from _progress import check_lines, progress_lines
from profilerec.data.dataset import Dataset
from profilerec.progress import INTERVAL_ENV
from profilerec.qa.config import QAConfig
from profilerec.qa.stage import run_qa


def test_each_context_prints_lines_and_cached_answers_print_none(
    dataset: Dataset,
    reader: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(INTERVAL_ENV, "0")  # a line on every batch
    config = QAConfig(tasks=("rating", "review"), bootstrap=20, review_tokens=4)
    run_qa(dataset, reader, tmp_path / "qa", config)
    err = capsys.readouterr().err
    for label in ("rating · none", "rating · history", "review · none", "review · history"):
        check_lines(err, label, 4)  # 4 test examples in batches of 3: 3/4, then 4/4
    run_qa(dataset, reader, tmp_path / "again", config)  # every answer cached: no work left
    assert not progress_lines(capsys.readouterr().err, "rating · none")
