"""RLPF baseline reward: can a frozen LLM pick the next item from the profile alone?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from profilerec.errors import UserError
from profilerec.rewards.base import completion_text, group_rng
from profilerec.rewards.lm_scorer import LMScorer

CONTEXT = "Customer profile: {profile}\nThe next product this customer buys: "


class RLPFReward:
    """Log-probability of the target among ``n_candidates`` items, scored by a frozen LM.

    Each candidate's title gets its length-normalised log-likelihood after the
    profile; a softmax over candidates turns those into the reward (as in RLPF,
    Wu et al. 2025, where a frozen LLM predicts the next item from the profile).
    """

    __name__ = "rlpf"

    def __init__(
        self,
        item_titles: Sequence[str],
        scorer: LMScorer | None = None,
        *,
        n_candidates: int = 10,
        seed: int = 0,
    ) -> None:
        if n_candidates < 2:
            raise UserError("RLPF needs at least 2 candidates")
        self.titles = list(item_titles)
        self.scorer = scorer
        self.n_candidates = n_candidates
        self.seed = seed

    def bind(self, scorer: LMScorer) -> RLPFReward:
        self.scorer = scorer
        return self

    def candidates(self, target: int, history: Sequence[int]) -> list[int]:
        pool = np.setdiff1d(np.arange(len(self.titles)), [target, *history])
        rng = group_rng(self.seed, "rlpf", target, tuple(history))
        k = min(self.n_candidates - 1, len(pool))
        return [target, *rng.choice(pool, size=k, replace=False).tolist()]

    def __call__(
        self,
        prompts: list[Any],
        completions: list[Any],
        *,
        positives: list[Sequence[int]],
        history_idx: list[Sequence[int]],
        **kwargs: Any,
    ) -> list[float]:
        if self.scorer is None:
            raise UserError("RLPFReward has no scorer: call bind(LMScorer(...)) first")
        texts = [completion_text(c) for c in completions]
        cands = [
            self.candidates(int(p[0]), list(h)) for p, h in zip(positives, history_idx, strict=True)
        ]
        contexts = [CONTEXT.format(profile=t) for t, c in zip(texts, cands, strict=True) for _ in c]
        conts = [self.titles[i] for c in cands for i in c]
        ll = self.scorer.loglik(contexts, conts)
        out: list[float] = []
        start = 0
        for t, c in zip(texts, cands, strict=True):
            scores = ll[start : start + len(c)]
            start += len(c)
            top = scores.max()
            out.append(float(scores[0] - top - np.log(np.exp(scores - top).sum())) if t else None)  # type: ignore[arg-type]
        return out
