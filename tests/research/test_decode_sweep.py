"""research/blue/decode_sweep.py's repetition measure."""

from __future__ import annotations

import pytest

from _scripts import load_script


def test_repeated_share_counts_4grams_seen_before() -> None:
    share = load_script("blue/decode_sweep").repeated_share
    assert share("a b c d e f") == 0.0
    assert share("a b c") == 0.0  # too short for one 4-gram
    # "a b c d a b c d": 5 four-grams, 4 distinct -> one repeat
    assert share("a b c d a b c d") == pytest.approx(1 / 5)
    assert share("x x x x x x") == pytest.approx(2 / 3)
