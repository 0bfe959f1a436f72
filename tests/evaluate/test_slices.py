from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _datasets import write_dataset
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.evaluate.slices import (
    SLICES,
    bottom_fraction,
    item_popularity,
    slice_masks,
    sliced_summary,
    user_activity,
)

CATALOGUE = [*"abcdefgh", "x", "y", "z"]
# Leave-last-out: the last item is the test target, the one before the validation target.
SEQUENCES = {
    "uA": list("abcdefgh"),  # trains on a..f (6), valid g, test h
    "uB": ["a", "b", "x", "y"],  # trains on a, b (2), valid x, test y
    "uC": ["a", "c", "b"],  # trains on a (1), valid c, test b
    "uD": ["b", "a", "c", "d", "e"],  # trains on b, a, c (3), valid d, test e
}
# Training popularity: a 4, b 3 (uC's b is a test target), c 2, d/e/f 1, g/h/x/y/z 0.


@pytest.fixture
def hand(tmp_path: Path) -> Dataset:
    return write_dataset(tmp_path / "hand", SEQUENCES, catalogue=CATALOGUE)


def test_counts_read_training_interactions(hand: Dataset) -> None:
    assert item_popularity(hand).tolist() == [4, 3, 2, 1, 1, 1, 0, 0, 0, 0, 0]
    assert user_activity(hand).tolist() == [6, 2, 1, 3]  # uA, uB, uC, uD


def test_masks_on_hand_made_cases(hand: Dataset) -> None:
    test = hand.split("test")  # uA h, uB y, uC b, uD e
    masks = slice_masks(hand, test, cold_user_max=2, tail_item_frac=0.6, tail_user_frac=0.5)
    assert set(masks) == set(SLICES)
    assert masks["overall"].tolist() == [True] * 4
    assert masks["cold_users"].tolist() == [False, True, True, False]  # 2 and 1 interactions
    # round(0.6 * 11) = 7 tail items; head a, b, c and d, which wins the d/e/f tie by
    # catalogue order, so e is in the tail.
    assert masks["tail_items"].tolist() == [True, True, False, True]
    # round(0.5 * 4) = 2 tail users: uB (2) and uC (1).
    assert masks["tail_users"].tolist() == [False, True, True, False]
    for tail, head in [("cold_users", "warm_users"), ("tail_items", "head_items")]:
        assert (masks[head] == ~masks[tail]).all()
    valid = slice_masks(hand, hand.split("valid"), tail_item_frac=0.6)  # g, x, c, d
    assert valid["tail_items"].tolist() == [True, True, False, False]
    assert valid["cold_users"].tolist() == [False, True, True, True]  # default: <= 5


def test_defaults_match_the_definitions(hand: Dataset) -> None:
    masks = slice_masks(hand, hand.split("valid"))  # g, x, c, d; head = a, b (2 of 11)
    assert masks["tail_items"].tolist() == [True, True, True, True]
    assert masks["tail_users"].tolist() == [False, True, True, True]  # round(3.2) = 3


def test_slices_ignore_held_out_interactions(hand: Dataset, tmp_path: Path) -> None:
    """Every user's validation and test targets become ``a`` and ``h``: if held-out
    interactions counted, h would be a head item and every user would have two more."""
    moved = {u: [*s[:-2], "a", "h"] for u, s in SEQUENCES.items()}
    other = write_dataset(tmp_path / "other", moved, catalogue=CATALOGUE)
    assert (item_popularity(other) == item_popularity(hand)).all()
    assert (user_activity(other) == user_activity(hand)).all()
    # The same examples (hand's test split) fall in the same slices on both datasets.
    test = hand.split("test")
    for name, mask in slice_masks(hand, test).items():
        assert (slice_masks(other, test)[name] == mask).all(), name
    # ... whereas counting all interactions would make h a head item.
    all_counts = other.interactions.group_by("item_id").len()
    assert dict(all_counts.iter_rows())["h"] == 4


def test_bottom_fraction_is_exact_with_ties() -> None:
    counts = np.array([5, 1, 1, 1, 0, 9])
    assert bottom_fraction(counts, 0.5).tolist() == [False, False, True, True, True, False]
    assert bottom_fraction(counts, 0.1).tolist() == [False] * 4 + [True, False]
    for frac in (0.0, 1.0):
        with pytest.raises(UserError, match="between 0 and 1"):
            bottom_fraction(counts, frac)


def test_mask_errors(hand: Dataset) -> None:
    with pytest.raises(UserError, match="cold_user_max"):
        slice_masks(hand, hand.split("test"), cold_user_max=-1)
    strangers = hand.split("test").with_columns(user_id=hand.split("test")["user_id"] + "!")
    with pytest.raises(UserError, match="not in the dataset"):
        slice_masks(hand, strangers)


def _tables() -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    ndcg_a, ndcg_b = rng.random(40), rng.random(40) * 0.5
    return {
        "pte": {"ndcg@10": ndcg_a, "recall@10": (ndcg_a > 0.5).astype(float)},
        "sasrec": {"ndcg@10": ndcg_b, "recall@10": (ndcg_b > 0.2).astype(float)},
    }


def test_sliced_summary_means_cis_and_counts() -> None:
    tables = _tables()
    first = np.arange(40) < 10
    masks = {"overall": np.ones(40, bool), "first": first, "empty": np.zeros(40, bool)}
    out = sliced_summary(tables, masks, bootstrap=200, seed=0, reference="sasrec")
    assert out["overall"]["n"] == 40 and out["first"]["n"] == 10 and out["empty"]["n"] == 0
    for name, mask in [("overall", masks["overall"]), ("first", first)]:
        metrics, ci = out[name]["metrics"], out[name]["ci"]
        for method, table in tables.items():
            for metric, values in table.items():
                mean = metrics[method][metric]  # type: ignore[index]
                low, high = ci[method][metric]  # type: ignore[index]
                assert mean == pytest.approx(values[mask].mean())
                assert low <= mean <= high
        comparisons = out[name]["comparisons"]
        assert {c["metric"] for c in comparisons} == {"ndcg@10", "recall@10"}  # type: ignore[attr-defined]
        assert all(c["reference"] == "sasrec" for c in comparisons)  # type: ignore[attr-defined]
    assert out["first"]["metrics"] != out["overall"]["metrics"]
    assert out["empty"]["metrics"] == {} and out["empty"]["ci"] == {}


def test_sliced_summary_rejects_misaligned_inputs() -> None:
    tables = _tables()
    with pytest.raises(UserError, match="differ in length"):
        sliced_summary(tables, {"overall": np.ones(39, bool)})
    with pytest.raises(UserError, match="ndcg@K and recall@K"):
        sliced_summary({"m": {"mrr": np.ones(40)}}, {"overall": np.ones(40, bool)})


def test_evaluate_slices_on_hand_made_cases(hand: Dataset) -> None:
    from profilerec.evaluate.slices import EVAL_SLICES, evaluate_slice_masks

    test = hand.split("test").sort("user_id")  # uA h (0 in training, 7 earlier), uB y (0, 3),
    # uC b (3, 2 earlier), uD e (1, 4)
    masks = evaluate_slice_masks(
        hand, test, cold_item_max=0, short_history_max=2, tail_item_frac=0.2
    )
    assert tuple(masks) == EVAL_SLICES
    assert masks["cold_items"].tolist() == [True, True, False, False]
    assert masks["short_history"].tolist() == [False, False, True, False]
    assert masks["tail_items"].tolist() == [False, True, False, False]  # y, z: bottom 2 of 11
    assert masks["rest"].tolist() == [False, False, False, True]
    assert evaluate_slice_masks(hand, test, cold_item_max=1)["cold_items"].tolist() == [
        True,
        True,
        False,
        True,
    ]
    with pytest.raises(UserError, match="short_history_max"):
        evaluate_slice_masks(hand, test, short_history_max=0)


def test_the_default_short_history_slice_is_not_empty_on_the_demo(demo_dataset: Path) -> None:
    """Under the 5-core every demo test example has at least 4 earlier items: the former
    threshold (2) left ``short_history`` empty on every 5-core dataset (issue 33)."""
    from profilerec.evaluate.slices import evaluate_slice_masks

    ds = Dataset.load(demo_dataset)
    masks = evaluate_slice_masks(ds, ds.split("test"))
    assert 0 < int(masks["short_history"].sum()) < ds.split("test").height
