"""scripts/decode_sweep.py's repetition measure."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "decode_sweep.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("decode_sweep", SCRIPT)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_repeated_share_counts_4grams_seen_before() -> None:
    share = _module().repeated_share
    assert share("a b c d e f") == 0.0
    assert share("a b c") == 0.0  # too short for one 4-gram
    # "a b c d a b c d": 5 four-grams, 4 distinct -> one repeat
    assert share("a b c d a b c d") == pytest.approx(1 / 5)
    assert share("x x x x x x") == pytest.approx(2 / 3)
