"""Rewards on hand-made cases: a profile nearer the positive gets more reward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _embedders import AXES, KeywordEmbedder
from profilerec.errors import UserError
from profilerec.rewards import EmbeddingReward, LMScorer, ShapingReward
from profilerec.rewards.shaping import copy_fraction

ITEMS = np.eye(len(AXES), dtype=np.float32) + 0.05  # item i is about AXES[i]


@pytest.mark.parametrize("variant", ["logprob", "rank", "margin", "ndcg", "mrr"])
def test_profile_nearer_positive_gets_more_reward(variant: str) -> None:
    reward = EmbeddingReward(KeywordEmbedder(), ITEMS, n_negatives=4, variant=variant)  # type: ignore[arg-type]
    near = "Loves lipstick, more lipstick and a bit of shampoo"
    far = "Buys tents and guitar strings"
    scores = reward([None, None], [near, far], positives=[[0], [0]], history_idx=[[1], [1]])
    assert scores[0] > scores[1]


def test_logprob_reward_matches_hand_computation() -> None:
    reward = EmbeddingReward(KeywordEmbedder(), ITEMS, n_negatives=10, temperature=0.5)
    vec = KeywordEmbedder().embed(["lipstick"])[0]
    items = ITEMS / np.linalg.norm(ITEMS, axis=1, keepdims=True)
    logits = items @ vec / 0.5  # positive 0, negatives = every item but 0 and history 3
    expected = logits[0] - np.log(np.exp(logits[[0, 1, 2, 4, 5]]).sum())
    got = reward([None], ["lipstick"], positives=[[0]], history_idx=[[3]])[0]
    assert got == pytest.approx(expected, rel=1e-5)


def test_ndcg_reward_is_top_heavy_in_the_rank_among_negatives() -> None:
    reward = EmbeddingReward(KeywordEmbedder(), ITEMS, n_negatives=10, variant="ndcg")
    # negatives: every item but the positive (0) and the history (3); only shampoo beats it
    ranked = reward([None] * 2, ["lipstick", "lipstick shampoo shampoo"],
                    positives=[[0], [0]], history_idx=[[3], [3]])  # fmt: skip
    assert ranked == pytest.approx([1.0, 1 / np.log2(3)])


def test_negatives_exclude_history_and_positives_and_are_shared_by_a_group() -> None:
    reward = EmbeddingReward(
        KeywordEmbedder(), np.eye(50, 6, dtype=np.float32) + 0.01, n_negatives=20
    )
    neg = reward.negatives([3, 4], [7, 8, 9])
    assert len(neg) == 20 and not set(neg) & {3, 4, 7, 8, 9}
    assert np.array_equal(neg, reward.negatives([3, 4], [7, 8, 9]))
    assert not np.array_equal(neg, reward.negatives([5], [7, 8, 9]))


def test_multi_positive_is_mean_over_positives() -> None:
    reward = EmbeddingReward(
        KeywordEmbedder(), ITEMS, n_negatives=10, variant="margin", temperature=1.0
    )
    vec = KeywordEmbedder().embed(["lipstick shampoo"])[0]
    items = ITEMS / np.linalg.norm(ITEMS, axis=1, keepdims=True)
    sims = items @ vec
    negatives_mean = sims[2:].mean()  # every item but the two positives
    expected = np.mean([sims[0] - negatives_mean, sims[1] - negatives_mean])
    assert reward.score(vec, [0, 1], []) == pytest.approx(expected, rel=1e-5)


def test_empty_profile_is_excluded_and_bad_settings_rejected() -> None:
    reward = EmbeddingReward(KeywordEmbedder(), ITEMS)
    assert reward([None], [""], positives=[[0]], history_idx=[[]]) == [None]
    with pytest.raises(UserError, match="variant"):
        EmbeddingReward(KeywordEmbedder(), ITEMS, variant="bogus")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="temperature"):
        EmbeddingReward(KeywordEmbedder(), ITEMS, temperature=0)


def test_chat_completions_are_read() -> None:
    reward = EmbeddingReward(KeywordEmbedder(), ITEMS, n_negatives=4)
    chat = [[{"role": "assistant", "content": "lipstick"}]]
    assert reward([None], chat, positives=[[0]], history_idx=[[]]) == reward(
        [None], ["lipstick"], positives=[[0]], history_idx=[[]]
    )


def test_shaping_penalties() -> None:
    shaping = ShapingReward(max_completion_length=10, eos_token_id=2, max_words=12)
    history = "1. Matte Red Lipstick Long Lasting Velvet (rated 5/5)"
    good = "Prefers bold long-wearing lip colour from mid-price brands, likes velvet finishes."
    assert shaping.penalty(good, history, [5, 6, 2]) == 0.0
    assert shaping.penalty("ok", history, [5, 2]) == -1.0  # empty-ish
    assert shaping.penalty(good, history, list(range(3, 13))) == -0.5  # truncated, no EOS
    long = " ".join(["word"] * 24)
    assert shaping.penalty(long, history, [2]) == pytest.approx(
        -1.0
    )  # 12 words over a budget of 12
    copied = "Matte Red Lipstick Long Lasting Velvet and Matte Red Lipstick Long Lasting"
    # 7 distinct word 4-grams, 3 of them verbatim in the history
    assert copy_fraction(copied, history) == pytest.approx(3 / 7)
    assert shaping.penalty(copied, history, [2]) == pytest.approx(-3 / 7)
    assert copy_fraction(good, history) == 0.0


def test_lm_scorer_matches_manual_log_probs(tiny_lm_dir) -> None:  # type: ignore[no-untyped-def]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_lm_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_lm_dir)
    scorer = LMScorer(model, tok, batch_size=2)
    contexts, conts = ["the user likes", "a b"], [" red lipstick", " c d e"]
    got = scorer.loglik(contexts, conts, normalize=False)
    for i, (ctx, cont) in enumerate(zip(contexts, conts, strict=True)):
        c = tok(ctx, add_special_tokens=False)["input_ids"]
        t = tok(cont, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([c + t])).logits[0], -1)
        manual = sum(float(logp[len(c) - 1 + j, t[j]]) for j in range(len(t)))
        assert got[i] == pytest.approx(manual, abs=1e-4)
    norm = scorer.loglik(contexts, conts)
    assert norm[1] == pytest.approx(
        got[1] / len(tok(" c d e", add_special_tokens=False)["input_ids"])
    )


def test_multi_positive_ndcg_averages_each_positive_rank() -> None:
    reward = EmbeddingReward(KeywordEmbedder(), ITEMS, n_negatives=10, variant="ndcg")
    vec = KeywordEmbedder().embed(["lipstick lipstick tent"])[0]
    # lipstick (0) beats every negative: rank 1, reward 1
    assert reward.score(vec, [0], []) == pytest.approx(1.0)
    # positives 0 and 3: negatives are 1, 2, 4, 5; tent (2) beats guitar and 1, 4, 5 tie with
    # it (ties count against it), so guitar ranks 5 of 5: 1 / log2(6)
    expected = (1.0 + 1.0 / np.log2(6)) / 2
    assert reward.score(vec, [0, 3], []) == pytest.approx(expected)


def test_mrr_reward_is_the_reciprocal_rank_over_the_whole_catalogue() -> None:
    reward = EmbeddingReward(KeywordEmbedder(), ITEMS, n_negatives=0, variant="mrr")
    # n_negatives=0: every item but the positive (0) and the history (3) is a negative
    assert sorted(reward.negatives([0], [3])) == [1, 2, 4, 5]
    third = "tent tent coffee coffee socks socks lipstick guitar"
    got = reward([None] * 3, ["lipstick", "lipstick shampoo shampoo", third],
                 positives=[[0]] * 3, history_idx=[[3]] * 3)  # fmt: skip
    # shampoo beats lipstick in the second; tent, coffee and socks in the third (guitar is
    # history), while shampoo stays below lipstick: no exact tie with the positive, whose order
    # would depend on the CPU's float rounding (it did on an AMD EPYC)
    assert got == pytest.approx([1.0, 1 / 2, 1 / 4])


def test_negative_count_below_zero_is_a_user_error() -> None:
    with pytest.raises(UserError, match="n_negatives"):
        EmbeddingReward(KeywordEmbedder(), ITEMS, n_negatives=-1)  # type: ignore[arg-type]
