"""Shaping penalties: empty, truncated, over-long, or history-copying profiles lose reward."""

from __future__ import annotations

import re
from typing import Any

from profilerec.rewards.base import completion_text

WORD = re.compile(r"[a-z0-9]+")


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def copy_fraction(profile: str, history: str, n: int = 4) -> float:
    """Share of the profile's word n-grams that appear verbatim in the history text."""
    grams = ngrams(profile, n)
    return len(grams & ngrams(history, n)) / len(grams) if grams else 0.0


class ShapingReward:
    """Sum of penalties (<= 0); 0 for a well-formed profile.

    - empty (fewer than ``min_words`` words): ``-1``
    - truncated (hit ``max_completion_length`` tokens without end-of-sequence): ``-truncated``
    - over-long (more than ``max_words``): ``-(excess / max_words)``
    - copying the history list: ``-copy * copy_fraction`` (word 4-gram overlap)
    """

    __name__ = "shaping"

    def __init__(
        self,
        *,
        max_completion_length: int,
        eos_token_id: int | None,
        min_words: int = 5,
        max_words: int = 80,
        truncated: float = 0.5,
        copy: float = 1.0,
    ) -> None:
        self.max_len = max_completion_length
        self.eos = eos_token_id
        self.min_words = min_words
        self.max_words = max_words
        self.truncated = truncated
        self.copy = copy

    def penalty(self, profile: str, history: str, ids: list[int] | None) -> float:
        words = len(profile.split())
        if words < self.min_words:
            return -1.0
        value = 0.0
        if ids is not None and len(ids) >= self.max_len and (not ids or ids[-1] != self.eos):
            value -= self.truncated
        if words > self.max_words:
            value -= (words - self.max_words) / self.max_words
        return value - self.copy * copy_fraction(profile, history)

    def __call__(
        self,
        prompts: list[Any],
        completions: list[Any],
        *,
        history_text: list[str],
        completion_ids: list[list[int]] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        ids = completion_ids or [None] * len(completions)
        return [
            self.penalty(completion_text(c), h, i)
            for c, h, i in zip(completions, history_text, ids, strict=True)
        ]
