"""Rating: the digit distribution of a tiny model equals a hand computation; trivial means."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
import torch

from profilerec.data.dataset import Dataset
from profilerec.qa import rating
from profilerec.qa.prompts import ask, rating_question


def test_digit_prediction_by_hand() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.2, 0.2])
    probs, expected, top = rating.digit_prediction(np.log(p * 7.0)[None])  # unnormalised
    np.testing.assert_allclose(probs[0], p)
    assert expected[0] == pytest.approx(1 * 0.1 + 2 * 0.2 + 3 * 0.3 + 4 * 0.2 + 5 * 0.2)
    assert top[0] == 3.0
    errors = rating.scores(expected, top, np.array([5.0]))
    assert errors["abs_err"][0] == pytest.approx(1.8)
    assert errors["sq_err"][0] == pytest.approx(1.8**2)
    assert errors["correct"][0] == 0.0


def test_tiny_model_digit_rating_equals_a_lone_forward_pass(reader: Any) -> None:
    prompts = [
        ask("", rating_question("item a")),
        ask("The customer's past purchases:\n1. item b (rated 2/5)", rating_question("item c")),
    ]
    ids = reader.digit_ids(rating.DIGITS)
    batched = reader.next_token_logprobs(prompts, ids)  # one right-padded batch
    gen = reader.generator
    for row, prompt in zip(batched, prompts, strict=True):
        tokens = gen.tokenizer(gen.render(prompt), add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = gen.model(input_ids=torch.tensor([tokens])).logits[0, -1].double()
        full = torch.log_softmax(logits, dim=-1)[ids].numpy()
        np.testing.assert_allclose(row, full, atol=1e-5)
        p = np.exp(full) / np.exp(full).sum()
        _, expected, top = rating.digit_prediction(row[None])
        assert expected[0] == pytest.approx(float(p @ np.arange(1, 6)), abs=1e-6)
        assert top[0] == float(np.argmax(p) + 1)
    again = reader.next_token_logprobs(prompts, ids)
    assert reader.cache.hits == 2 and reader.cache.misses == 2
    np.testing.assert_allclose(again, batched)


def test_true_ratings_and_trivial_predictors_use_training_ratings_only(dataset: Dataset) -> None:
    test = dataset.split("test").sort("example_id")
    assert rating.true_ratings(dataset, test).tolist() == [5.0, 5.0, 5.0, 2.0]
    pred = rating.trivial_predictions(dataset, test)
    # training: u1 a=1 b=3, u2 b=2 c=5, u3 c=4 d=5, u4 e=5 f=5 (targets c/d, e/a, a/f, b/g out)
    assert pred["user_mean"].tolist() == [2.0, 3.5, 4.5, 5.0]
    assert pred["item_mean"].tolist() == pytest.approx([5.0, 1.0, 5.0, 30 / 8])  # g unseen
    assert pred["global_mean"].tolist() == [30 / 8] * 4
    errors = rating.trivial_scores(pred["user_mean"], np.array([5.0, 5.0, 5.0, 2.0]))
    assert errors["correct"].tolist() == [0.0, 0.0, 0.0, 0.0]  # rint(3.5) = 4, rint(4.5) = 4


def test_user_mean_of_an_unseen_user_is_the_mean_of_its_own_earlier_ratings(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user-disjoint test user has no training rating: its history (before the target) counts."""
    test = dataset.split("test").sort("example_id")
    full = dataset.train_interactions()
    monkeypatch.setattr(
        type(dataset), "train_interactions", lambda self: full.filter(pl.col("user_id") != "u1")
    )
    pred = rating.trivial_predictions(dataset, test)
    row = test.filter(pl.col("user_id") == "u1")
    inter = dataset.interactions.filter(pl.col("user_id") == "u1")
    earlier = dict(zip(inter["item_id"], inter["rating"], strict=True))
    expected = float(np.mean([earlier[i] for i in row["history"][0]]))
    k = test["user_id"].to_list().index("u1")
    assert pred["user_mean"][k] == pytest.approx(expected)
    assert row["item_id"][0] not in row["history"][0]  # the target's rating is not in it
    assert [p for j, p in enumerate(pred["user_mean"]) if j != k] == [3.5, 4.5, 5.0]
