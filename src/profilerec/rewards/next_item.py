"""BLUE's text-space next-item signal: the profile should make the next item's text likely."""

from __future__ import annotations

from typing import Any

from profilerec.errors import UserError
from profilerec.rewards.base import completion_text
from profilerec.rewards.lm_scorer import LMScorer

CONTEXT = "Customer profile: {profile}\nThe next product this customer buys: "


class NextItemReward:
    """Length-normalised log-likelihood of the target item's text given the profile.

    The scorer is frozen (by default the profiler's base model with its adapter off),
    so the reward keeps profiles meaningful as text rather than tuned to the embedder.
    Bind the scorer with :meth:`bind` once the policy model exists.
    """

    __name__ = "next_item"

    def __init__(self, scorer: LMScorer | None = None, *, context: str = CONTEXT) -> None:
        self.scorer = scorer
        self.context = context

    def bind(self, scorer: LMScorer) -> NextItemReward:
        self.scorer = scorer
        return self

    def __call__(
        self, prompts: list[Any], completions: list[Any], *, target_text: list[str], **kwargs: Any
    ) -> list[float]:
        if self.scorer is None:
            raise UserError("NextItemReward has no scorer: call bind(LMScorer(...)) first")
        texts = [completion_text(c) for c in completions]
        contexts = [self.context.format(profile=t) for t in texts]
        values = self.scorer.loglik(contexts, list(target_text))
        return [float(v) if t else None for v, t in zip(values, texts, strict=True)]  # type: ignore[misc]
