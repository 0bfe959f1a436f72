"""Bad-input corpus for ``profilerec train``: refused before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

import profilerec.cli.train as train_cli
from bad_input._inproc import no_model, run_main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "learning_rate=-1e-4"], "--set: learning_rate must be > 0, not -0.0001"),
        (["--set", "learning_rate=0"], "learning_rate must be > 0"),
        (["--method", "bogus"], "unknown training method 'bogus'"),
        (["--method", "embedder", "--set", "epochs=0"], "epochs must be at least 1"),
        (["--method", "embedder", "--backbone", "sasrec"], "--backbone does not apply"),
        (["--method", "rft", "--epochs", "2"], "--epochs does not apply to --method rft"),
        (["--rounds", "2"], "--rounds does not apply to --method blue"),
        (["--set", "trl.max_grad_nrm=1"], "did you mean max_grad_norm"),
        (["--set", "trl.learning_rate=1"], "trl.learning_rate is set by profilerec"),
        (["--method", "embedder", "--set", "batch_size=1"], "batch_size must be at least 2"),
        (
            ["--method", "embedder", "--embedder", "openai:m@http://localhost:1"],
            "must be a sentence-transformers model",
        ),
    ],
)
def test_refused_before_models_load(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(train_cli, "make_embedder", no_model)
    monkeypatch.setattr("profilerec.methods.blue.trainer.train_blue", no_model)
    monkeypatch.setattr("profilerec.methods.embedder.tune_embedder", no_model)
    code, err = run_main(
        monkeypatch, capsys, "train", demo_dataset, "--out", tmp_path / "run", *args
    )
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert len(err.splitlines()) == 1
