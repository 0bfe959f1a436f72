"""Hybrid: z-scored score fusion of an ID model with a text method.

fused = (1 - w) * z(id_scores) + w * z(text_scores), each z-scored per row over the
catalogue so the two scales are comparable; w = 0 returns the ID scores untouched
(exactly the ID model), w = 1 is the text method alone. w is chosen on validation.
This is how a user learns whether a profile adds anything to what they already run.
"""

from __future__ import annotations

import torch

#: Fusion weights searched on validation.
WEIGHTS: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def zscore(scores: torch.Tensor) -> torch.Tensor:
    """Per-row (score - mean) / std; a constant row becomes zeros."""
    s = scores.double()
    std = s.std(dim=1, keepdim=True)
    return ((s - s.mean(dim=1, keepdim=True)) / torch.where(std > 0, std, 1.0)).float()


def fuse(id_scores: torch.Tensor, text_scores: torch.Tensor, weight: float) -> torch.Tensor:
    """``(1 - weight) z(id) + weight z(text)``; ``weight == 0`` returns ``id_scores`` as is."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"fusion weight must be in [0, 1], got {weight}")
    if weight == 0.0:
        return id_scores
    if weight == 1.0:
        return text_scores
    return (1.0 - weight) * zscore(id_scores) + weight * zscore(text_scores)
