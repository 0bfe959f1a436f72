"""Percentile bootstrap intervals and a paired bootstrap test over per-user values
(or over users, each with several test examples).

Written with numpy rather than ``scipy.stats.bootstrap`` because the paired test needs
the resampled mean differences themselves (for the p-value), and drawing them here
keeps the interval and the p-value on the very same resamples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from profilerec.errors import UserError

_BLOCK_CELLS = 1 << 22
"""Resample indices drawn at once (~32 MB of int64), so memory stays bounded."""


@dataclass(frozen=True)
class Interval:
    """Sample mean and its ``1 - alpha`` percentile bootstrap interval."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class PairedResult:
    """Mean of ``a - b``, its percentile interval and a two-sided bootstrap p-value."""

    mean_diff: float
    low: float
    high: float
    p_value: float
    #: Standard deviation of the resampled mean differences (the bootstrap standard error).
    se: float = float("nan")

    def detectable(self, power: float = 0.8, alpha: float = 0.05) -> float:
        """Smallest true difference this comparison would find at ``alpha`` (two-sided) with
        probability ``power``: (z_{1-alpha/2} + z_power) x SE. With few test users it says
        whether a negative result could have been positive at all."""
        from statistics import NormalDist

        z = NormalDist().inv_cdf
        return (z(1 - alpha / 2) + z(power)) * self.se


def _check(values: np.ndarray, what: str, n_resamples: int, alpha: float) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise UserError(f"{what} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise UserError(f"{what} contains NaN or infinite values")
    if n_resamples < 1:
        raise UserError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0.0 < alpha < 1.0:
        raise UserError(f"alpha must be between 0 and 1, got {alpha}")
    return arr


def _blocked_resamples(
    n: int, n_resamples: int, seed: int, stat: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """``stat`` of ``n_resamples`` with-replacement index draws from ``range(n)``.

    Draws come in blocks of about ``_BLOCK_CELLS`` indices, so memory stays bounded for
    any ``n``; ``stat`` maps a ``[rows, n]`` index block to one value per row."""
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // n)
    out = np.empty(n_resamples, dtype=np.float64)
    for start in range(0, n_resamples, block):
        stop = min(start + block, n_resamples)
        out[start:stop] = stat(rng.integers(0, n, size=(stop - start, n)))
    return out


def _resampled_means(values: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Means of ``n_resamples`` with-replacement resamples of ``values``."""
    return _blocked_resamples(len(values), n_resamples, seed, lambda idx: values[idx].mean(axis=1))


def _percentiles(means: np.ndarray, alpha: float) -> tuple[float, float]:
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def bootstrap_ci(
    values: np.ndarray,
    *,
    n_resamples: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> Interval:
    """Percentile bootstrap interval of the mean of ``values``; ``groups`` (one label per
    value) resamples whole groups, as in ``paired_bootstrap``."""
    arr = _check(values, "values", n_resamples, alpha)
    if groups is None:
        means = _resampled_means(arr, n_resamples, seed)
    else:
        means = _resampled_group_means(arr, _labels(groups, arr), n_resamples, seed)
    low, high = _percentiles(means, alpha)
    return Interval(mean=float(arr.mean()), low=low, high=high)


def _labels(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    labels = np.asarray(groups)
    if labels.shape != values.shape:
        raise UserError(f"groups needs one label per value ({len(values)}), got {labels.shape}")
    return labels


def _resampled_group_means(
    values: np.ndarray, groups: np.ndarray, n_resamples: int, seed: int
) -> np.ndarray:
    """Means over examples of ``n_resamples`` with-replacement resamples of whole groups.

    A user with ten test positions is one draw, not ten: examples of one user are
    correlated, and resampling them one by one gives intervals that are too narrow."""
    _, codes = np.unique(groups, return_inverse=True)
    sums = np.bincount(codes, weights=values)
    counts = np.bincount(codes).astype(np.float64)
    return _blocked_resamples(
        len(sums),
        n_resamples,
        seed,
        lambda idx: sums[idx].sum(axis=1) / counts[idx].sum(axis=1),
    )


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_resamples: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> PairedResult:
    """Paired bootstrap of ``mean(a) - mean(b)`` over the same users.

    Each resample draws one set of user indices for both methods; since
    ``mean(a[idx]) - mean(b[idx]) == mean((a - b)[idx])`` we resample the differences.

    With observed difference ``D``, B resampled differences ``D*`` and
    ``c = #{D* <= 0}`` if ``D > 0``, ``#{D* >= 0}`` if ``D < 0``, ``B`` if ``D == 0``:
    ``p = min(1, 2 * (c + 1) / (B + 1))``. The +1 keeps p above zero, as B resamples
    cannot show a probability below ``1 / (B + 1)``; the smallest p is ``2 / (B + 1)``.

    ``groups`` (one label per value, e.g. the user of each test example) resamples whole
    groups instead of single values: the cluster bootstrap for splits with several test
    examples per user (user-disjoint, every position).
    """
    arr_a = _check(a, "a", n_resamples, alpha)
    arr_b = _check(b, "b", n_resamples, alpha)
    if len(arr_a) != len(arr_b):
        raise UserError(
            f"paired bootstrap needs the same users for both methods; got {len(arr_a)} "
            f"and {len(arr_b)} values"
        )
    diff = arr_a - arr_b
    observed = float(diff.mean())
    if groups is None:
        means = _resampled_means(diff, n_resamples, seed)
    else:
        means = _resampled_group_means(diff, _labels(groups, diff), n_resamples, seed)
    if observed > 0:
        other_side = int((means <= 0).sum())
    elif observed < 0:
        other_side = int((means >= 0).sum())
    else:
        other_side = n_resamples
    p_value = min(1.0, 2 * (other_side + 1) / (n_resamples + 1))
    low, high = _percentiles(means, alpha)
    return PairedResult(
        mean_diff=observed, low=low, high=high, p_value=p_value, se=float(means.std(ddof=1))
    )
