"""Helpers shared by the rewards."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np


def completion_text(completion: Any) -> str:
    """TRL passes a string (plain prompts) or ``[{"role": "assistant", "content": ...}]`` (chat)."""
    if isinstance(completion, str):
        return completion.strip()
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", "")).strip()
    return str(completion).strip()


def group_rng(seed: int, *keys: Any) -> np.random.Generator:
    """An RNG that depends only on ``seed`` and ``keys``.

    Keyed by the example (not the call), so every rollout of one prompt is scored
    against the same negatives: GRPO compares rollouts within a group, and shared
    negatives remove that source of variance from the advantages.
    """
    digest = hashlib.sha256(repr((seed, *keys)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))
