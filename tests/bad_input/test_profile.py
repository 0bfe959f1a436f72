"""Bad-input corpus for ``profilerec profile``: a bad split or template is refused before the
generator loads (it was once reported only after the model had loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

import profilerec.cli.profile as profile_cli
from bad_input._inproc import no_model, run_main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split", "tset"], "unknown split 'tset'; choose train, valid or test"),
        (["--template", "no_such_template"], "unknown prompt template 'no_such_template'"),
        (["--template", "missing.txt"], "prompt template missing.txt not found"),
    ],
)
def test_refused_before_the_generator_loads(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(profile_cli, "make_runner", no_model, raising=False)
    monkeypatch.setattr(profile_cli, "make_generator", no_model)
    monkeypatch.chdir(tmp_path)
    code, err = run_main(
        monkeypatch, capsys, "profile", demo_dataset, "--out", tmp_path / "p", *args
    )
    assert code == 2 and err == f"error: {message}", err
