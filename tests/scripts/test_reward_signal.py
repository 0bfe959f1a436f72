"""scripts/reward_signal.py's statistics: the pooled within-example correlation and its CI."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reward_signal.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reward_signal", SCRIPT)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pooled_correlation_of_centred_groups() -> None:
    rs = _module()
    rng = np.random.default_rng(0)
    # B follows A inside each group: the pooled within correlation is high.
    groups = []
    for _ in range(50):
        a = rng.normal(size=5)
        b = a + 0.1 * rng.normal(size=5)
        groups.append((a - a.mean(), b - b.mean()))
    assert rs._pooled(groups) > 0.95
    low, high = rs._boot(groups, n=200)
    assert low <= rs._pooled(groups) <= high
    # Independent A and B: the interval covers 0.
    noise = [(rng.normal(size=5), rng.normal(size=5)) for _ in range(200)]
    low, high = rs._boot([(a - a.mean(), b - b.mean()) for a, b in noise], n=200)
    assert low < 0 < high
    assert rs._pooled([(np.array([1.0, -1.0]), np.array([-2.0, 2.0]))]) == pytest.approx(-1.0)
