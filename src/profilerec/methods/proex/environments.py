"""ProEx environments: Dirichlet-weighted mixtures of each node's K profile vectors.

Each environment is one plausible way of combining a user's (or item's) K profiles. The
recommendation loss is computed in every environment and its variance across them is
penalised, so the model leans on what all profile combinations agree on (an IRM-style
invariance) rather than on any single, possibly hallucinated, profile.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from profilerec.errors import UserError


def concentration(alpha: float | Sequence[float], k: int) -> torch.Tensor:
    """The Dirichlet parameter ``[K]``: a scalar is broadcast (symmetric Dirichlet)."""
    conc = torch.as_tensor(alpha, dtype=torch.float32).reshape(-1)
    if conc.numel() == 1:
        conc = conc.expand(k).clone()
    if conc.numel() != k or bool((conc <= 0).any()):
        raise UserError(f"Dirichlet alpha must be positive with 1 or K={k} entries, got {alpha}")
    return conc


def environment_weights(n_envs: int, alpha: float | Sequence[float], k: int) -> torch.Tensor:
    """``[E, K]`` mixing weights, one Dirichlet(alpha) draw per environment.

    Draws from torch's default generator (``Dirichlet`` takes no generator): training
    calls this inside a ``torch.random.fork_rng`` seeded with the config's seed; use
    ``seeded_environment_weights`` for a standalone reproducible draw.
    """
    if n_envs < 1:
        raise UserError(f"need at least one environment, got {n_envs}")
    conc = concentration(alpha, k)
    if k == 1:  # a point mass at 1; torch's sampler clamps it to 1 - 2^-24
        return torch.ones(n_envs, 1)
    return torch.distributions.Dirichlet(conc).sample((n_envs,))


def seeded_environment_weights(
    n_envs: int, alpha: float | Sequence[float], k: int, seed: int
) -> torch.Tensor:
    """``environment_weights`` from its own seed, leaving the caller's RNG untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return environment_weights(n_envs, alpha, k)


def expected_weights(alpha: float | Sequence[float], k: int) -> torch.Tensor:
    """``alpha / sum(alpha)``: the Dirichlet mean, used to mix profiles at inference."""
    conc = concentration(alpha, k)
    return conc / conc.sum()


def mix(profiles: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``[B, K, d]`` profile vectors x ``[E, K]`` weights -> ``[E, B, d]`` mixtures."""
    return torch.einsum("bkd,ek->ebd", profiles, weights)


def environment_variance(losses: torch.Tensor) -> torch.Tensor:
    """Population variance of the ``[E]`` per-environment losses.

    Written as the mean squared pairwise difference / 2 (the same quantity as
    ``torch.var(unbiased=False)``), which is exactly 0 when all losses are equal;
    ``torch.var`` subtracts a rounded mean and can leave a tiny positive residue.
    """
    diff = losses[:, None] - losses[None, :]
    return diff.pow(2).mean() / 2
