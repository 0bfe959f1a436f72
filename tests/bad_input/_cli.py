"""Run ``profilerec`` as a user does and check its one-line errors (shared by this corpus)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run_cli(*args: str | Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """``python -m profilerec.cli ARGS`` in this interpreter; models load from nowhere."""
    env = {**os.environ, "PYTHONPATH": SRC, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "profilerec.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def assert_error(result: subprocess.CompletedProcess[str], fragment: str, code: int = 2) -> str:
    """Exit ``code``, no traceback, and ``fragment`` in a one-line ``error: ...`` message."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


def assert_usage_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    """typer's short usage message, exit 2, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "Usage:" in result.stderr and fragment in result.stderr, result.stderr
