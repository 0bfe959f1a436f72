from __future__ import annotations

import pytest
import torch

from profilerec.errors import UserError
from profilerec.methods.proex.environments import (
    environment_variance,
    environment_weights,
    expected_weights,
    mix,
    seeded_environment_weights,
)


def test_weights_are_distributions_with_the_dirichlet_mean() -> None:
    alpha = [1.0, 2.0, 3.0, 4.0]
    w = seeded_environment_weights(20_000, alpha, 4, seed=0)
    assert w.shape == (20_000, 4)
    assert bool((w >= 0).all())
    torch.testing.assert_close(w.sum(1), torch.ones(20_000), atol=1e-5, rtol=0)
    # E[w] = alpha / sum(alpha); the largest component sd is 0.15, so the mean of 20k
    # draws is within 0.005 with overwhelming probability.
    torch.testing.assert_close(w.mean(0), torch.tensor([0.1, 0.2, 0.3, 0.4]), atol=5e-3, rtol=0)


def test_scalar_alpha_is_symmetric_and_small_alpha_is_spiky() -> None:
    flat = seeded_environment_weights(20_000, 1.0, 3, seed=1)
    torch.testing.assert_close(flat.mean(0), torch.full((3,), 1 / 3), atol=5e-3, rtol=0)
    spiky = seeded_environment_weights(20_000, 0.05, 3, seed=1)
    # With alpha << 1 almost all mass sits on one profile; with alpha = 1 it does not.
    assert (spiky.max(1).values > 0.9).float().mean() > 0.8
    assert (flat.max(1).values > 0.9).float().mean() < 0.05


def test_seeded_draws_repeat_and_leave_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = seeded_environment_weights(5, 0.5, 4, seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(a, seeded_environment_weights(5, 0.5, 4, seed=7))
    assert not torch.equal(a, seeded_environment_weights(5, 0.5, 4, seed=8))


def test_one_profile_gives_weight_exactly_one() -> None:
    assert torch.equal(environment_weights(6, 0.3, 1), torch.ones(6, 1))


def test_bad_alpha_or_env_count_is_a_user_error() -> None:
    with pytest.raises(UserError, match="alpha"):
        environment_weights(2, [1.0, 2.0], 3)
    with pytest.raises(UserError, match="alpha"):
        environment_weights(2, 0.0, 3)
    with pytest.raises(UserError, match="environment"):
        environment_weights(0, 1.0, 3)


def test_expected_weights() -> None:
    torch.testing.assert_close(expected_weights([1.0, 3.0], 2), torch.tensor([0.25, 0.75]))
    torch.testing.assert_close(expected_weights(2.0, 4), torch.full((4,), 0.25))


def test_mix_is_the_weighted_sum_of_profiles() -> None:
    profiles = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 2.0], [4.0, 0.0]]])  # [B=2, K=2, 2]
    weights = torch.tensor([[1.0, 0.0], [0.25, 0.75]])  # [E=2, K=2]
    expected = torch.tensor(
        [
            [[1.0, 0.0], [2.0, 2.0]],  # environment 0 takes profile 0
            [[0.25, 0.75], [3.5, 0.5]],  # 0.25 * p0 + 0.75 * p1
        ]
    )
    torch.testing.assert_close(mix(profiles, weights), expected)


def test_variance_is_exactly_zero_for_equal_losses() -> None:
    # torch.var subtracts a rounded mean: three copies of 0.1 leave a residue.
    assert environment_variance(torch.tensor([0.1, 0.1, 0.1], dtype=torch.float64)).item() == 0.0
    assert environment_variance(torch.tensor([0.7])).item() == 0.0


def test_variance_matches_the_population_variance() -> None:
    losses = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert environment_variance(losses).item() == pytest.approx(2 / 3)
    torch.testing.assert_close(environment_variance(losses), losses.var(unbiased=False))
