"""PtE's selection reward: collaborative alignment plus distinctiveness.

PtE samples several candidate profiles per user and per item and keeps the one whose
embedding best carries the interaction graph, since that is what the SASRec / DreamRec
backbones later read from it. Two failure modes are scored: a profile that does not
point at the entity's own interactions (misaligned), and a fluent but generic profile
that would fit anyone (collapsed). With ``s = cos / temperature`` (every term in these
logit units, so the weights compare directly):

- **alignment** (users and items): multi-positive log-softmax, the mean over positives
  ``p`` of ``s_p - logsumexp(s over positives and sampled negatives)``. For a user the
  positives are its training items (BLUE's embedding reward with the whole training
  history as positives); for an item they are its training users' profiles. Negatives are
  sampled outside the positives, keyed by the positives, so every candidate of one entity
  meets the same negatives and the group comparison is not noise.
- **neighbour agreement** (users): mean ``s`` to the co-interaction neighbours' reference
  profiles minus mean ``s`` to random other users': a profile should read like those of
  users with the same items, not like anyone's.
- **distinctiveness**: ``-max(0, cos(v, g) - margin) / temperature`` with ``g`` the mean of
  all candidates of the kind; only profiles closer than ``margin`` to the average profile
  ("likes good quality products") lose reward.

``reward = align_weight * alignment + neighbour_weight * agreement - distinct_weight * penalty``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.rewards.base import completion_text, group_rng


@dataclass
class PtERewardConfig:
    """Weights and sampling of the selection reward (TRL style: every field with help)."""

    temperature: float = field(
        default=0.05, metadata={"help": "Cosine temperature: logits are cos / temperature."}
    )
    n_negatives: int = field(
        default=64, metadata={"help": "Negatives sampled outside an entity's positives."}
    )
    n_random: int = field(
        default=16, metadata={"help": "Random users contrasted with a user's neighbours."}
    )
    align_weight: float = field(
        default=1.0, metadata={"help": "Weight of the multi-positive log-softmax alignment."}
    )
    neighbour_weight: float = field(
        default=0.5, metadata={"help": "Weight of agreement with co-interaction neighbours."}
    )
    distinct_weight: float = field(
        default=1.0, metadata={"help": "Weight of the penalty for generic (average) profiles."}
    )
    distinct_margin: float = field(
        default=0.9, metadata={"help": "Cosine to the mean candidate above which it is penalised."}
    )
    seed: int = field(default=0, metadata={"help": "Seeds negative and random-user sampling."})

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise UserError("the reward temperature must be > 0")
        if self.n_negatives < 0 or self.n_random < 0:
            raise UserError("n_negatives and n_random must be >= 0")
        if min(self.align_weight, self.neighbour_weight, self.distinct_weight) < 0:
            raise UserError("reward weights must be non-negative")
        if not -1.0 <= self.distinct_margin <= 1.0:
            raise UserError(f"distinct_margin is a cosine in [-1, 1], got {self.distinct_margin}")


def _sample_excluding(
    rng: np.random.Generator, n: int, excluded: Sequence[int], size: int
) -> np.ndarray:
    """Up to ``size`` distinct indices in ``range(n)`` outside ``excluded``, uniformly.

    Draws ``size + len(excluded)`` distinct indices and drops the excluded ones, which costs
    O(size) rather than O(n) per call; the full pool is built only when it is small anyway.
    """
    banned = np.unique(np.asarray(excluded, dtype=np.int64))
    want = min(size, n - len(banned))
    if want <= 0:
        return np.zeros(0, dtype=np.int64)
    draw = min(n, want + len(banned))
    picked = rng.choice(n, size=draw, replace=False)
    return picked[~np.isin(picked, banned)][:want].astype(np.int64)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


class CollaborativeReward:
    """Scores candidate profiles of one kind (users or items) against the other side.

    Args:
        embedder: Embeds completions (``__call__`` only; ``score_vectors`` takes vectors).
        targets: ``[n_targets, d]`` vectors the positives index: item vectors when scoring
            users, user profile vectors when scoring items.
        peers: ``[n_peers, d]`` reference profiles of the scored kind, indexed by
            ``neighbours`` and ``entity`` (users only); ``None`` turns agreement off.
        generic: The mean profile of the kind; ``None`` uses the mean of each call's
            completions (fine for a TRL batch spanning many entities).

    TRL's ``reward(prompts, completions, **columns)`` contract: ``positives`` (and for users
    ``neighbours``, ``entity``) arrive as dataset columns, one value per completion.
    """

    __name__ = "pte_collaborative"

    def __init__(
        self,
        embedder: Embedder | None,
        targets: np.ndarray,
        *,
        peers: np.ndarray | None = None,
        generic: np.ndarray | None = None,
        config: PtERewardConfig | None = None,
    ) -> None:
        self.embedder = embedder
        self.targets = _unit(targets)
        self.peers = None if peers is None else _unit(peers)
        self.generic = None if generic is None else _unit(generic)
        self.config = config or PtERewardConfig()

    def __call__(
        self,
        prompts: list[Any],
        completions: list[Any],
        *,
        positives: list[Sequence[int]],
        neighbours: list[Sequence[int]] | None = None,
        entity: list[int] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        if self.embedder is None:
            raise UserError("this reward was built without an embedder; use score_vectors")
        texts = [completion_text(c) for c in completions]
        scores = self.score_vectors(self.embedder.embed(texts), positives, neighbours, entity)
        return [float(s) if t else None for s, t in zip(scores, texts, strict=True)]

    def score_vectors(
        self,
        vecs: np.ndarray,
        positives: Sequence[Sequence[int]],
        neighbours: Sequence[Sequence[int]] | None = None,
        entity: Sequence[int] | None = None,
    ) -> np.ndarray:
        """The reward of each row of ``vecs`` (``[n, d]``) as a float64 array."""
        cfg = self.config
        vecs = _unit(vecs)
        if len(vecs) == 0:
            return np.zeros(0)
        generic = self.generic if self.generic is not None else _unit(vecs.mean(0))
        out = np.empty(len(vecs))
        for row, vec in enumerate(vecs):
            value = cfg.align_weight * self.alignment(vec, positives[row])
            if self.peers is not None and neighbours is not None and cfg.neighbour_weight:
                me = entity[row] if entity is not None else None
                value += cfg.neighbour_weight * self.agreement(vec, neighbours[row], me)
            value -= cfg.distinct_weight * self.penalty(vec, generic)
            out[row] = value
        return out

    def negatives(self, positives: Sequence[int]) -> np.ndarray:
        rng = group_rng(self.config.seed, "negatives", tuple(sorted(positives)))
        return _sample_excluding(rng, len(self.targets), positives, self.config.n_negatives)

    def alignment(self, vec: np.ndarray, positives: Sequence[int]) -> float:
        """Mean log-probability of the positives among themselves plus sampled negatives."""
        if len(positives) == 0:
            return 0.0
        pos = np.asarray(positives, dtype=np.int64)
        logits = self.targets[np.concatenate([pos, self.negatives(positives)])] @ vec
        logits = logits.astype(np.float64) / self.config.temperature
        top = logits.max()
        log_z = top + np.log(np.exp(logits - top).sum())
        return float(logits[: len(pos)].mean() - log_z)

    def agreement(self, vec: np.ndarray, neighbours: Sequence[int], entity: int | None) -> float:
        """Mean logit to the neighbours' reference profiles minus to random other peers'."""
        if self.peers is None or len(neighbours) == 0:
            return 0.0
        near = np.asarray(neighbours, dtype=np.int64)
        excluded = [*near.tolist(), *([entity] if entity is not None else [])]
        rng = group_rng(self.config.seed, "random_peers", entity, tuple(near.tolist()))
        far = _sample_excluding(rng, len(self.peers), excluded, self.config.n_random)
        if len(far) == 0:  # nobody to contrast with: no evidence either way
            return 0.0
        s_near, s_far = (
            float((self.peers[near] @ vec).mean()),
            float((self.peers[far] @ vec).mean()),
        )
        return (s_near - s_far) / self.config.temperature

    def penalty(self, vec: np.ndarray, generic: np.ndarray) -> float:
        """Hinge on the cosine to the average profile, in logit units."""
        cos = float(vec @ generic)
        return max(0.0, cos - self.config.distinct_margin) / self.config.temperature
