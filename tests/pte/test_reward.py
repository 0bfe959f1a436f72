"""The selection reward on hand-made vectors: alignment, neighbours, distinctiveness."""

from __future__ import annotations

import numpy as np
import pytest

from profilerec.errors import UserError
from profilerec.methods.pte.reward import CollaborativeReward, PtERewardConfig


class LookupEmbedder:
    """Maps each known text to a chosen vector: the reward, not the embedder, is under test."""

    model_id = "lookup"

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.dim = len(next(iter(vectors.values())))

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)


ITEMS = np.eye(6, dtype=np.float32)  # item i points along axis i
ONLY_ALIGN = PtERewardConfig(neighbour_weight=0.0, distinct_weight=0.0, n_negatives=10)


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def test_user_candidate_nearer_its_items_gets_more_reward() -> None:
    emb = LookupEmbedder(
        {"near": [1, 1, 0, 0, 0, 0.2], "half": [1, 0, 0, 1, 0, 0.2], "far": [0, 0, 1, 1, 0, 0.2]}
    )
    reward = CollaborativeReward(emb, ITEMS, config=ONLY_ALIGN)
    scores = reward([None] * 3, ["near", "half", "far"], positives=[[0, 1]] * 3)
    assert scores[0] is not None and scores[1] is not None and scores[2] is not None
    assert scores[0] > scores[1] > scores[2]


def test_alignment_is_the_multi_positive_log_softmax() -> None:
    cfg = PtERewardConfig(temperature=0.5, n_negatives=10, neighbour_weight=0, distinct_weight=0)
    reward = CollaborativeReward(None, ITEMS, config=cfg)
    vec = _unit([3, 1, 0, 2, 0, 1])
    logits = ITEMS @ vec / 0.5  # positives 0, 1 among themselves and all four other items
    expected = logits[[0, 1]].mean() - np.log(np.exp(logits).sum())
    assert reward.score_vectors(vec[None], [[0, 1]])[0] == pytest.approx(expected, rel=1e-5)
    # negatives are shared by every candidate of the same entity and avoid its positives
    many = CollaborativeReward(None, np.eye(40, 6), config=PtERewardConfig(n_negatives=8))
    neg = many.negatives([3, 4])
    assert len(neg) == 8 and not {3, 4} & set(neg.tolist())
    assert np.array_equal(neg, many.negatives([4, 3]))


def test_candidate_agreeing_with_neighbours_beats_one_like_random_users() -> None:
    # peers: users 0-1 are the neighbours (axis 0), users 2-5 others (axis 1)
    peers = np.array([[1, 0.1, 0], [1, 0, 0.1], [0, 1, 0], [0.1, 1, 0], [0, 1, 0.1], [0, 1, 0]])
    cfg = PtERewardConfig(align_weight=0, distinct_weight=0, n_random=3)
    emb = LookupEmbedder({"like neighbours": [1, 0, 0], "like others": [0, 1, 0]})
    reward = CollaborativeReward(emb, np.eye(3), peers=peers, config=cfg)
    scores = reward(
        [None, None],
        ["like neighbours", "like others"],
        positives=[[0], [0]],
        neighbours=[[0, 1], [0, 1]],
        entity=[5, 5],
    )
    assert scores[0] is not None and scores[1] is not None
    assert scores[0] > 0 > scores[1]
    # no neighbours: no evidence, no agreement term
    assert reward.agreement(_unit([1, 0, 0]), [], 5) == 0.0


def test_distinctiveness_penalises_the_generic_candidate() -> None:
    specific = {"lipstick": [1, 0, 0, 0], "tent": [0, 1, 0, 0], "guitar": [0, 0, 1, 0]}
    emb = LookupEmbedder({**specific, "likes good things": [1, 1, 1, 0.05]})
    cfg = PtERewardConfig(align_weight=0, neighbour_weight=0, distinct_margin=0.9)
    reward = CollaborativeReward(emb, np.eye(4), config=cfg)
    texts = [*specific, "likes good things"]
    # generic=None: the mean of the call's candidates is the "average profile"
    scores = reward([None] * 4, texts, positives=[[0]] * 4)
    assert scores[:3] == [0.0, 0.0, 0.0]  # far from the average: no penalty
    assert scores[3] is not None and scores[3] < -1.0  # cos ~1 to the average: (1 - 0.9) / 0.05
    # with alignment on, a generic text about as aligned as a specific one loses to it
    both = CollaborativeReward(emb, np.eye(4), generic=np.array([1.0, 1, 1, 0]))
    generic_score, specific_score = both.score_vectors(
        np.array([[1, 1, 1, 0.05], [1, 0.9, 0, 0]]), [[0, 1], [0, 1]]
    )
    assert specific_score > generic_score


def test_empty_completion_and_bad_settings() -> None:
    reward = CollaborativeReward(LookupEmbedder({"": [1, 0], "x": [0, 1]}), np.eye(2))
    out = reward([None, None], ["", [{"role": "assistant", "content": "x"}]], positives=[[0], [1]])
    assert out[0] is None and isinstance(out[1], float)
    assert reward.__name__ == "pte_collaborative"  # TRL logs rewards under this name
    with pytest.raises(UserError, match="temperature"):
        PtERewardConfig(temperature=0)
    with pytest.raises(UserError, match="non-negative"):
        PtERewardConfig(distinct_weight=-1)
    with pytest.raises(UserError, match="embedder"):
        CollaborativeReward(None, np.eye(2))([None], ["x"], positives=[[0]])
