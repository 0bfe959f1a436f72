"""research/industrial/run_step.py: RUN:STEP resolves to the run's validation file, or exits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _scripts import load_script

run_step = load_script("industrial/run_step").run_step


def _run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "validation").mkdir(parents=True)
    for step in (0, 25):
        (run / "validation" / f"step-{step:06d}.parquet").write_bytes(b"")
    (run / "best.json").write_text(json.dumps({"step": 25}))
    return run


def test_explicit_step_and_best_step(tmp_path: Path) -> None:
    run = _run(tmp_path)
    assert run_step(f"{run}:0") == (run, 0, run / "validation" / "step-000000.parquet")
    assert run_step(str(run), allow_best=True)[1:] == (
        25,
        run / "validation" / "step-000025.parquet",
    )


def test_bad_specs_exit_with_one_line(tmp_path: Path) -> None:
    run = _run(tmp_path)
    with pytest.raises(SystemExit, match=r"validated steps: \['step-000000', 'step-000025'\]"):
        run_step(f"{run}:7")
    with pytest.raises(SystemExit, match="is not RUN:STEP"):
        run_step(str(run))  # a bare run only where the best step is allowed
    with pytest.raises(SystemExit, match=r"best\.json"):
        run_step(str(tmp_path / "missing"), allow_best=True)
