"""GRPO-style group-relative selection of candidate profiles.

Each entity's C candidates form a group. Rewards are compared only inside the group
(GRPO's advantage, ``(r - mean) / (std + eps)`` with the sample std and eps = 1e-4 as in
TRL's ``GRPOTrainer``), so an entity whose profiles are all easy or all hard to align
neither dominates nor vanishes, and the argmax is the group's best candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from profilerec.errors import UserError


@dataclass(frozen=True)
class GroupSelection:
    """Per-candidate advantages ``[n_groups, C]`` and the chosen candidate per group."""

    #: NaN where a candidate has no reward (e.g. an empty completion).
    advantages: np.ndarray
    #: Index of the best candidate; ties go to the lowest index, an all-missing group to 0.
    selected: np.ndarray


def group_relative(
    rewards: np.ndarray | Sequence[Sequence[float | None]], *, eps: float = 1e-4
) -> GroupSelection:
    """Advantages and argmax of each row of ``rewards`` (``[n_groups, C]``; None/NaN = missing).

    Missing rewards are left out of the group's mean and std; a group with a single
    reward gets advantage 0 for it (no comparison is possible).
    """
    if len(rewards) == 0:
        return GroupSelection(advantages=np.zeros((0, 0)), selected=np.zeros(0, dtype=np.int64))
    r = np.array(
        [[np.nan if v is None else float(v) for v in row] for row in rewards], dtype=np.float64
    )
    if r.ndim != 2 or r.shape[1] == 0:
        raise UserError("rewards must be a [groups, candidates] table with >= 1 candidate")
    valid = ~np.isnan(r)
    count = valid.sum(1, keepdims=True)
    filled = np.where(valid, r, 0.0)
    mean = filled.sum(1, keepdims=True) / np.maximum(count, 1)
    var = (np.where(valid, r - mean, 0.0) ** 2).sum(1, keepdims=True) / np.maximum(count - 1, 1)
    adv = np.where(valid, (r - mean) / (np.sqrt(var) + eps), np.nan)
    adv = np.where(valid & (count == 1), 0.0, adv)
    selected = np.argmax(np.where(valid, r, -np.inf), axis=1)  # first maximum wins ties
    return GroupSelection(advantages=adv, selected=selected.astype(np.int64))
