"""Progress in logs: plain done/total, rate, ETA lines when stderr is not a terminal."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from profilerec.progress import LineProgress, fmt_duration, fmt_rate, interval_seconds, step

SRC = str(Path(__file__).resolve().parents[1] / "src")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_at_a_steady_interval_with_rate_and_eta() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = LineProgress("profiling (x)", 100, interval=10, stream=stream, clock=clock)
    for _ in range(10):  # 10 steps of 2 s, 5 items each: a line at 10 s and at 20 s only
        clock.now += 2
        bar.advance(5)
    clock.now += 2
    bar.advance(50)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "profiling (x): 0/100 (0%), started",
        "profiling (x): 25/100 (25%), 2.50/s, ETA 30s",
        "profiling (x): 50/100 (50%), 2.50/s, ETA 20s",
        "profiling (x): 100/100 (100%), done in 22s",
    ]


def test_resumed_work_is_not_counted_in_the_rate() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = LineProgress("p", 10, done=6, interval=0, stream=stream, clock=clock)
    clock.now += 60
    bar.advance(1)
    assert stream.getvalue().splitlines()[-1] == "p: 7/10 (70%), 1.00/min, ETA 3m00s"


def test_formats_and_interval_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [fmt_duration(s) for s in (42, 187, 3720)] == ["42s", "3m07s", "1h02m"]
    assert [fmt_rate(r) for r in (3.0, 0.5, 1 / 7200)] == ["3.00/s", "30.00/min", "0.50/h"]
    monkeypatch.setenv("PROFILEREC_PROGRESS_SECONDS", "2.5")
    assert interval_seconds() == 2.5
    monkeypatch.setenv("PROFILEREC_PROGRESS_SECONDS", "soon")
    assert interval_seconds() == 15.0


def test_step_lines_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with step("embedding the catalogue"):
        pass
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "embedding the catalogue ..."
    assert re.fullmatch(r"embedding the catalogue: done in \d+s", err[1])


def test_profile_prints_progress_lines_when_piped(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    """``profilerec profile`` on the tiny model, stdout and stderr piped (as in a log)."""
    env = {**os.environ, "PYTHONPATH": SRC, "HF_HUB_OFFLINE": "1",
           "PROFILEREC_PROGRESS_SECONDS": "0", "OMP_NUM_THREADS": "1"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "profilerec.cli", "profile", str(demo_dataset),
         "--out", str(tmp_path / "p"), "--generator", f"transformers:{tiny_lm_dir}",
         "--limit", "6", "--batch-size", "2", "--max-new-tokens", "4", "--dtype", "float32",
         "--device", "cpu"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("profiling (zero_shot): ")]
    assert lines[0] == "profiling (zero_shot): 0/6 (0%), started"
    assert re.fullmatch(
        r"profiling \(zero_shot\): 2/6 \(33%\), [\d.]+/(s|min|h), ETA \w+", lines[1]
    )
    assert re.fullmatch(r"profiling \(zero_shot\): 6/6 \(100%\), done in \w+", lines[-1])
    assert len(lines) == 4  # start, after each of the three batches


def test_status_resumed_work_found_later_and_an_early_stop() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = LineProgress("fit", 10, interval=0, stream=stream, clock=clock)
    bar.skip(4)  # found done while running (resumed part files): not in the rate
    clock.now += 10
    bar.advance(2, status="loss 0.5000")
    clock.now += 10
    bar.advance()
    bar.close()
    assert stream.getvalue().splitlines() == [
        "fit: 0/10 (0%), started",
        "fit: 6/10 (60%), 12.00/min, ETA 20s, loss 0.5000",
        "fit: 7/10 (70%), 9.00/min, ETA 20s, loss 0.5000",
        "fit: 7/10 (70%), stopped after 20s",
    ]


def test_no_stopped_line_when_the_work_is_done() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = LineProgress("p", 2, interval=0, stream=stream, clock=clock)
    bar.skip(2)
    bar.close()
    assert stream.getvalue().splitlines() == ["p: 0/2 (0%), started", "p: 2/2 (100%), done in 0s"]
