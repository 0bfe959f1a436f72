"""LLM-judge baseline reward: a judge LLM's 1-5 quality score of the profile against the history."""

from __future__ import annotations

from typing import Any

import numpy as np

from profilerec.errors import UserError
from profilerec.rewards.base import completion_text
from profilerec.rewards.lm_scorer import LMScorer

PROMPT = (
    "A good customer profile is coherent, accurate to the purchase history, covers the "
    "customer's main interests, and is concise.\n\nPurchase history:\n{history}\n\n"
    "Profile:\n{profile}\n\nRate the profile for coherence, accuracy, coverage and "
    "conciseness on a scale from 1 (poor) to 5 (excellent).\nScore:"
)


class JudgeReward:
    """Expected 1-5 score under the judge's next-token distribution over the digits.

    Reading the distribution (rather than parsing sampled text) gives a graded,
    low-variance reward from one forward pass, which matters on a CPU.
    """

    __name__ = "judge"

    def __init__(self, scorer: LMScorer | None = None, *, prompt: str = PROMPT) -> None:
        self.scorer = scorer
        self.prompt = prompt
        self._digits: list[int] | None = None

    def bind(self, scorer: LMScorer) -> JudgeReward:
        self.scorer = scorer
        return self

    def digit_ids(self) -> list[int]:
        if self._digits is None:
            assert self.scorer is not None
            tok = self.scorer.tokenizer
            ids = [tok(f" {d}", add_special_tokens=False)["input_ids"] for d in "12345"]
            if any(len(i) != 1 for i in ids):
                ids = [tok(d, add_special_tokens=False)["input_ids"] for d in "12345"]
            if any(len(i) != 1 for i in ids):
                raise UserError(
                    "the judge's tokenizer does not encode the digits 1-5 as single tokens"
                )
            self._digits = [i[0] for i in ids]
        return self._digits

    def __call__(
        self, prompts: list[Any], completions: list[Any], *, history_text: list[str], **kwargs: Any
    ) -> list[float]:
        if self.scorer is None:
            raise UserError("JudgeReward has no scorer: call bind(LMScorer(...)) first")
        texts = [completion_text(c) for c in completions]
        contexts = [
            self.prompt.format(history=h, profile=t)
            for h, t in zip(history_text, texts, strict=True)
        ]
        logp = self.scorer.next_token_logprobs(contexts, self.digit_ids())
        probs = np.exp(logp - logp.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        scores = probs @ np.arange(1, 6)
        return [float(s) if t else None for s, t in zip(scores, texts, strict=True)]  # type: ignore[misc]
