"""Reward callables for GRPO training of the profiler, one module per reward.

Each follows TRL's contract ``reward(prompts, completions, **kwargs) -> list[float]``
(dataset columns arrive as kwargs, one value per completion) and is a plain callable,
not an ``nn.Module``, so TRL does not mistake it for a reward model. ``__name__`` is
the name TRL logs it under (``rewards/<name>/mean``).
"""

from __future__ import annotations

from profilerec.methods.rewards.base import completion_text
from profilerec.methods.rewards.embedding import EmbeddingReward
from profilerec.methods.rewards.judge import JudgeReward
from profilerec.methods.rewards.lm_scorer import LMScorer
from profilerec.methods.rewards.next_item import NextItemReward
from profilerec.methods.rewards.rlpf import RLPFReward
from profilerec.methods.rewards.shaping import ShapingReward

__all__ = [
    "EmbeddingReward",
    "JudgeReward",
    "LMScorer",
    "NextItemReward",
    "RLPFReward",
    "ShapingReward",
    "completion_text",
]
