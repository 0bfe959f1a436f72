"""Reward callables for GRPO training of the profiler, one module per reward.

Each follows TRL's contract ``reward(prompts, completions, **kwargs) -> list[float]``
(dataset columns arrive as kwargs, one value per completion) and is a plain callable,
not an ``nn.Module``, so TRL does not mistake it for a reward model. ``__name__`` is
the name TRL logs it under (``rewards/<name>/mean``).

A package of its own below the stages (issue 37; it was ``methods/rewards/``): the
trainers in ``methods/`` train with these rewards, ``profile/select.py`` picks profiles
by :class:`EmbeddingReward`, and ``qa/`` scores answers with :class:`LMScorer`.
"""

from __future__ import annotations

from profilerec.rewards.base import completion_text
from profilerec.rewards.embedding import EmbeddingReward
from profilerec.rewards.judge import JudgeReward
from profilerec.rewards.lm_scorer import LMScorer
from profilerec.rewards.next_item import NextItemReward
from profilerec.rewards.rlpf import RLPFReward
from profilerec.rewards.shaping import ShapingReward

__all__ = [
    "EmbeddingReward",
    "JudgeReward",
    "LMScorer",
    "NextItemReward",
    "RLPFReward",
    "ShapingReward",
    "completion_text",
]
