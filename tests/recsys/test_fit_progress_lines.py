"""The shared epoch loop prints plain progress lines when stderr is not a terminal."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from _progress import check_lines, progress_lines
from profilerec.progress import INTERVAL_ENV
from profilerec.recsys.fit import fit_epochs


def _fit(epochs: int, **kw: Any) -> int:
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    x, y = torch.randn(8, 2), torch.randn(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def loss(rows: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(model(x[rows]), y[rows])

    gen = torch.Generator().manual_seed(0)
    return fit_epochs(
        model, opt, 8, loss, epochs=epochs, batch_size=4, gen=gen, progress=True, **kw
    )


def test_a_line_per_epoch_with_the_loss(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(INTERVAL_ENV, "0")
    _fit(3, desc="SASRec")
    lines = check_lines(capsys.readouterr().err, "SASRec epochs", 3, status=r"loss [\d.]+")
    assert len(lines) == 4


def test_validation_score_and_early_stop_in_the_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(INTERVAL_ENV, "0")
    assert _fit(10, desc="DreamRec", valid=lambda: 0.5, patience=2) == 1
    lines = progress_lines(capsys.readouterr().err, "DreamRec epochs")
    assert lines[1].split(", ")[-1] == "valid NDCG@10 0.5000"
    assert lines[-1].startswith("DreamRec epochs: 3/10 (30%), stopped after ")
