"""Run ``profilerec`` through ``main`` in this process: cheap cases without subprocess imports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from profilerec.cli import main


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> tuple[int, str]:
    """(exit code, stderr) of ``profilerec ARGS``."""
    monkeypatch.setattr(sys, "argv", ["profilerec", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    return code, capsys.readouterr().err.strip()


def no_model(*a: object, **k: object) -> None:
    """Patched over a model loader: a refused request must never reach it."""
    raise AssertionError("a refused request must not load a model")
