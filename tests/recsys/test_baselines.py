"""ID baselines on hand-made logs where the right answer is known."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.baselines import BASELINES, IDRecommender, build_baseline

MakeDataset = Callable[..., Dataset]

# Two "bought together" groups: a with b, c with d; x/y/z pad the logs (each user's last
# two items are the validation and test targets, so training holds the first ones).
PAIRS = {
    **{f"p{k}": ["a", "b", "x", "y"] for k in range(4)},
    **{f"q{k}": ["c", "d", "y", "x"] for k in range(4)},
    "r0": ["b", "a", "x", "z"],
    "r1": ["d", "c", "y", "z"],
}


def _fit(name: str, ds: Dataset, **params: object) -> IDRecommender:
    extra: dict[str, object] = {"epochs": 30, "patience": 0} if name == "sasrec" else {}
    return build_baseline(name, **extra, **params).fit(ds)


@pytest.mark.parametrize("name", ["cooccurrence", "itemknn", "ease", "als", "bpr"])
def test_the_item_bought_together_ranks_first(name: str, make_dataset: MakeDataset) -> None:
    ds = make_dataset(PAIRS)
    idx = ds.item_index
    params = {"factors": 8, "iterations": 50} if name in ("als", "bpr") else {}
    if name == "bpr":
        params |= {"learning_rate": 0.05, "iterations": 300}
    model = _fit(name, ds, **params)
    scores = model.score([[idx["a"]], [idx["c"]]])
    assert scores.dtype == torch.float32 and scores.shape == (2, len(ds.item_ids))
    # Among the items not in the history, the partner scores above the other group's items.
    assert scores[0, idx["b"]] > scores[0, [idx["c"], idx["d"]]].max()
    assert scores[1, idx["d"]] > scores[1, [idx["a"], idx["b"]]].max()


def test_sasrec_learns_the_next_item(make_dataset: MakeDataset) -> None:
    ds = make_dataset(PAIRS)
    idx = ds.item_index
    model = _fit("sasrec", ds, lr=1e-2)
    scores = model.score([[idx["a"]]])
    assert scores[0, idx["b"]] > scores[0, [idx["c"], idx["d"]]].max()


def test_cooccurrence_counts_are_exact(make_dataset: MakeDataset) -> None:
    ds = make_dataset(PAIRS)
    idx = ds.item_index
    model = _fit("cooccurrence", ds, tiebreak=False)
    s = model.score([[idx["a"]]])[0]
    # Training: p0-p3 hold a,b; r0 holds b,a: 5 users with both; a itself is not scored.
    assert s[idx["b"]] == 5 and s[idx["a"]] == 0 and s[idx["c"]] == 0


def test_targets_never_reach_training(make_dataset: MakeDataset) -> None:
    # z is only ever a test target: no baseline may link it to a or b.
    ds = make_dataset(PAIRS)
    idx = ds.item_index
    for name in ("cooccurrence", "itemknn"):
        s = _fit(name, ds, tiebreak=False).score([[idx["a"], idx["b"]]])[0]
        assert s[idx["z"]] == 0, name


def test_recency_decay_prefers_the_newest_items_neighbour(make_dataset: MakeDataset) -> None:
    ds = make_dataset(PAIRS)
    idx = ds.item_index
    hist = [[idx["a"], idx["c"]]]  # c is newest
    even = _fit("itemknn", ds, decay=1.0, tiebreak=False).score(hist)[0]
    assert even[idx["b"]] == pytest.approx(float(even[idx["d"]]))
    decayed = _fit("itemknn", ds, decay=0.5, tiebreak=False).score(hist)[0]
    assert decayed[idx["d"]] > decayed[idx["b"]]


def test_itemknn_explain_names_the_contributing_history_item(make_dataset: MakeDataset) -> None:
    ds = make_dataset(PAIRS)
    idx = ds.item_index
    model = _fit("itemknn", ds)
    assert model.explain([idx["a"], idx["c"]], [idx["b"], idx["d"], idx["z"]]) == [
        idx["a"],
        idx["c"],
        -1,  # z co-occurs with nothing in training
    ]


def test_ease_refuses_an_oversized_catalogue(make_dataset: MakeDataset) -> None:
    ds = make_dataset(PAIRS)
    with pytest.raises(UserError, match=r"dense 7 x 7 .*max_items=5"):
        _fit("ease", ds, max_items=5)


def test_registry_and_errors(make_dataset: MakeDataset) -> None:
    assert set(BASELINES) == {
        "popularity",
        "cooccurrence",
        "itemknn",
        "ease",
        "als",
        "bpr",
        "sasrec",
    }
    with pytest.raises(UserError, match="unknown ID baseline"):
        build_baseline("knn")
    with pytest.raises(UserError, match="unexpected keyword"):
        build_baseline("itemknn", k=3)
    ds = make_dataset(PAIRS)
    with pytest.raises(UserError, match="outside the catalogue"):
        _fit("itemknn", ds).score([[99]])
    with pytest.raises(UserError, match="fit"):
        build_baseline("cooccurrence").score([[0]])


def test_popularity_is_the_same_for_every_history(make_dataset: MakeDataset) -> None:
    ds = make_dataset(PAIRS)
    s = _fit("popularity", ds).score([[0], [1, 2]])
    assert torch.equal(s[0], s[1])
    assert np.argmax(s[0].numpy()) in {ds.item_index["a"], ds.item_index["b"]}
