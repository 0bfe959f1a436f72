"""research/blue/reward_signal.py's statistics: the pooled within-example correlation and its CI."""

from __future__ import annotations

import numpy as np
import pytest

from _scripts import load_script


def test_pooled_correlation_of_centred_groups() -> None:
    rs = load_script("blue/reward_signal")
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
