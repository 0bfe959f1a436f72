"""BLUE's embedding-space reward: the profile should land near the next item, far from others."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.rewards.base import completion_text, group_rng

Variant = Literal["logprob", "rank", "margin", "ndcg", "mrr"]


class EmbeddingReward:
    """Score a profile by where its embedding puts the positive item among sampled negatives.

    Item vectors are computed once (by the caller) and passed in; only profiles are
    embedded per step. Negatives come from the catalogue minus the user's history
    and positives, and are shared by every rollout of the same example.

    Variants, with ``s = cos / temperature``:
      - ``logprob`` (default, the paper's contrastive form): ``log softmax(s)[positive]``
        among the 1 + N candidates, averaged over positives.
      - ``rank``: fraction of negatives the positive beats (in [0, 1]); low variance.
      - ``margin``: ``s_pos - mean(s_neg)``.
      - ``ndcg``: ``1 / log2(1 + rank)`` of the positive among the 1 + N (ties count
        against it): top-heavy like the NDCG@10 it is judged on. ``logprob`` and ``rank``
        weigh a badly ranked user's gain as much as a well ranked one's, and on All_Beauty
        they were raised by generic profiles that retrieve worse (research/notes/2026-12-01-blue-32-step-cpu.md).
      - ``mrr``: ``1 / rank`` of the positive among the 1 + N. Without a cutoff the
        ``ndcg`` discount is nearly flat deep in the list (rank 64 of 129 still earns 0.17),
        so a generic profile earns about as much as a sharp one; ``1 / rank`` falls to 0.016
        there, and with ``n_negatives=0`` (the whole catalogue minus the user's history and
        positives) it is the reciprocal rank the test metric sees.
    """

    __name__ = "embedding"

    def __init__(
        self,
        embedder: Embedder,
        item_vectors: np.ndarray,
        *,
        n_negatives: int = 128,
        temperature: float = 0.05,
        variant: Variant = "logprob",
        seed: int = 0,
    ) -> None:
        if variant not in ("logprob", "rank", "margin", "ndcg", "mrr"):
            raise UserError(
                f"unknown embedding reward variant {variant!r}; "
                "use logprob, rank, margin, ndcg or mrr"
            )
        if n_negatives < 0:
            raise UserError("n_negatives must be >= 0 (0 = the whole catalogue)")
        if temperature <= 0:
            raise UserError("the reward temperature must be > 0")
        norms = np.linalg.norm(item_vectors, axis=1, keepdims=True)
        self.items = (item_vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        self.embedder = embedder
        self.n_negatives = n_negatives
        self.temperature = temperature
        self.variant = variant
        self.seed = seed

    def negatives(self, positives: Sequence[int], history: Sequence[int]) -> np.ndarray:
        excluded = set(positives) | set(history)
        pool = np.setdiff1d(np.arange(len(self.items)), np.fromiter(excluded, dtype=np.int64))
        if self.n_negatives == 0:
            return pool  # every other item: the full-catalogue rank, as in evaluation
        rng = group_rng(self.seed, tuple(positives), tuple(history))
        size = min(self.n_negatives, len(pool))
        return rng.choice(pool, size=size, replace=False)

    def __call__(
        self,
        prompts: list[Any],
        completions: list[Any],
        *,
        positives: list[Sequence[int]],
        history_idx: list[Sequence[int]],
        **kwargs: Any,
    ) -> list[float]:
        texts = [completion_text(c) for c in completions]
        scores = self.score_texts(texts, positives, history_idx)
        return [
            float(value) if text else None  # type: ignore[misc]
            for value, text in zip(scores, texts, strict=True)
        ]

    def score_texts(
        self,
        texts: Sequence[str],
        positives: Sequence[Sequence[int]],
        history_idx: Sequence[Sequence[int]],
    ) -> np.ndarray:
        """The reward of each text (embedded in one call): the one scorer of GRPO's rollouts
        (``__call__``), RFT's best-of-N candidates and ``select``'s coverage. What an empty
        text earns is the caller's rule (GRPO: no reward; best-of-N: it never wins)."""
        return self.score_vectors(self.embedder.embed(list(texts)), positives, history_idx)

    def score_vectors(
        self,
        vecs: np.ndarray,
        positives: Sequence[Sequence[int]],
        history_idx: Sequence[Sequence[int]],
    ) -> np.ndarray:
        """:meth:`score` of each (unit-normalised) vector; an entry with no positive scores 0."""
        vecs = np.asarray(vecs, dtype=np.float32)
        vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return np.array(
            [
                self.score(vec, list(pos), list(hist)) if len(pos) else 0.0
                for vec, pos, hist in zip(vecs, positives, history_idx, strict=True)
            ],
            dtype=np.float64,
        )

    def score(self, vec: np.ndarray, positives: list[int], history: list[int]) -> float:
        neg = self.negatives(positives, history)
        s_neg = self.items[neg] @ vec / self.temperature
        values = []
        for p in positives:
            s_pos = float(self.items[p] @ vec) / self.temperature
            if self.variant == "logprob":
                logits = np.concatenate([[s_pos], s_neg])
                top = logits.max()
                values.append(s_pos - top - float(np.log(np.exp(logits - top).sum())))
            elif self.variant == "rank":
                values.append(float((s_neg < s_pos).mean()) if len(s_neg) else 1.0)
            elif self.variant == "ndcg":
                values.append(1.0 / float(np.log2(2 + int((s_neg >= s_pos).sum()))))
            elif self.variant == "mrr":
                values.append(1.0 / (1 + int((s_neg >= s_pos).sum())))
            else:
                values.append(s_pos - float(s_neg.mean()) if len(s_neg) else s_pos)
        return float(np.mean(values))
