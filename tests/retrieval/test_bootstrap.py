"""Bootstrap interval and paired test behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from profilerec.errors import UserError
from profilerec.retrieval.bootstrap import bootstrap_ci, paired_bootstrap


def test_interval_contains_mean_and_matches_normal_approximation() -> None:
    values = np.random.default_rng(1).normal(loc=0.3, scale=1.0, size=2000)
    ci = bootstrap_ci(values, n_resamples=2000)
    assert ci.mean == pytest.approx(values.mean())
    assert ci.low < ci.mean < ci.high
    half_width = 1.96 * values.std() / np.sqrt(len(values))
    assert (ci.high - ci.low) / 2 == pytest.approx(half_width, rel=0.1)


def test_interval_narrows_with_more_users() -> None:
    rng = np.random.default_rng(2)
    small = bootstrap_ci(rng.random(100))
    large = bootstrap_ci(rng.random(10_000))
    # Width shrinks like 1/sqrt(n): about 10x here.
    assert (large.high - large.low) < (small.high - small.low) / 5


def test_constant_values_give_a_point_interval_and_seed_is_reproducible() -> None:
    ci = bootstrap_ci(np.full(50, 0.25))
    assert (ci.mean, ci.low, ci.high) == (0.25, 0.25, 0.25)
    values = np.random.default_rng(3).random(200)
    assert bootstrap_ci(values, seed=7) == bootstrap_ci(values, seed=7)
    assert bootstrap_ci(values, seed=7) != bootstrap_ci(values, seed=8)


def test_identical_methods_have_zero_difference_and_p_one() -> None:
    a = np.random.default_rng(4).random(300)
    res = paired_bootstrap(a, a.copy())
    assert (res.mean_diff, res.low, res.high, res.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_clearly_different_methods_reach_the_smallest_p() -> None:
    rng = np.random.default_rng(5)
    b = rng.random(300)
    a = b + 0.1 + 0.05 * rng.random(300)  # a beats b for every user
    res = paired_bootstrap(a, b, n_resamples=999)
    assert res.p_value == pytest.approx(2 / 1000)  # c = 0: 2 * (0 + 1) / (999 + 1)
    assert 0.1 < res.low < res.mean_diff < res.high < 0.15
    flipped = paired_bootstrap(b, a, n_resamples=999)
    assert flipped.p_value == pytest.approx(2 / 1000)
    assert flipped.mean_diff == pytest.approx(-res.mean_diff)


def test_zero_mean_difference_gives_p_one() -> None:
    res = paired_bootstrap(np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0, 1.0]))
    assert res.mean_diff == 0.0 and res.p_value == 1.0


def test_pairing_uses_the_same_users_for_both_methods() -> None:
    rng = np.random.default_rng(6)
    base = rng.random(500)  # user difficulty shared by both methods
    a = base + 0.02 + 0.01 * rng.normal(size=500)
    b = base + 0.01 * rng.normal(size=500)
    paired = paired_bootstrap(a, b, seed=3)
    on_diff = bootstrap_ci(a - b, seed=3)
    assert (paired.low, paired.high) == (on_diff.low, on_diff.high)
    # Unpaired, the shared difficulty would swamp the 0.02 gain; paired it is tiny noise.
    assert paired.high - paired.low < (bootstrap_ci(a).high - bootstrap_ci(a).low) / 10
    assert paired.p_value < 0.01


def test_bad_input_raises_user_error() -> None:
    with pytest.raises(UserError, match="same users"):
        paired_bootstrap(np.ones(3), np.ones(4))
    with pytest.raises(UserError, match="non-empty"):
        bootstrap_ci(np.array([]))
    with pytest.raises(UserError, match="NaN"):
        bootstrap_ci(np.array([1.0, np.nan]))
    with pytest.raises(UserError, match="alpha"):
        bootstrap_ci(np.ones(3), alpha=1.5)
    with pytest.raises(UserError, match="n_resamples"):
        paired_bootstrap(np.ones(3), np.ones(3), n_resamples=0)


def test_grouped_bootstrap_with_one_value_per_group_is_the_plain_one() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.random(40), rng.random(40)
    plain = paired_bootstrap(a, b, seed=5)
    grouped = paired_bootstrap(a, b, seed=5, groups=np.arange(40))
    assert grouped.mean_diff == pytest.approx(plain.mean_diff)
    assert (grouped.low, grouped.high) == pytest.approx((plain.low, plain.high))


def test_grouped_bootstrap_treats_a_users_copies_as_one_draw() -> None:
    """Ten identical positions of each user carry one user's information, not ten."""
    rng = np.random.default_rng(4)
    a, b = rng.random(30), rng.random(30)
    once = paired_bootstrap(a, b, seed=1)
    a10, b10, users = np.repeat(a, 10), np.repeat(b, 10), np.repeat(np.arange(30), 10)
    naive = paired_bootstrap(a10, b10, seed=1)
    clustered = paired_bootstrap(a10, b10, seed=1, groups=users)
    assert naive.high - naive.low < 0.5 * (once.high - once.low)
    assert clustered.high - clustered.low == pytest.approx(once.high - once.low, rel=0.2)


def test_grouped_bootstrap_needs_one_label_per_value() -> None:
    with pytest.raises(UserError, match="one label per value"):
        paired_bootstrap(np.ones(4), np.zeros(4), groups=np.arange(3))


def test_detectable_difference_matches_the_normal_standard_error() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.1, 1.0, 400), rng.normal(0.0, 1.0, 400)
    d = paired_bootstrap(a, b, n_resamples=2000)
    se = (a - b).std(ddof=1) / np.sqrt(400)
    assert d.se == pytest.approx(se, rel=0.1)
    assert d.detectable() == pytest.approx(2.8016 * d.se, rel=1e-3)
    # four times the users halve the smallest detectable difference
    a4, b4 = rng.normal(0.1, 1.0, 1600), rng.normal(0.0, 1.0, 1600)
    assert paired_bootstrap(a4, b4).detectable() == pytest.approx(d.detectable() / 2, rel=0.15)
