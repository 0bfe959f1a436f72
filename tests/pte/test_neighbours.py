"""Collaborative neighbours and item audiences: hand-checked, and from training only."""

from __future__ import annotations

from pathlib import Path

import pytest

from _datasets import write_dataset
from profilerec.errors import UserError
from profilerec.methods.pte.neighbours import item_users, training_histories, user_neighbours

# Training items per user; every user also gets a validation and a test item appended.
TRAIN = {
    "u1": ["a", "b", "c"],
    "u2": ["a", "b", "c", "d"],  # overlap 3 with u1, Jaccard 3/4
    "u3": ["a", "b"],  # overlap 2, Jaccard 2/3
    "u4": ["c", "e", "f", "g", "h"],  # overlap 1, Jaccard 1/7
    "u5": ["x", "y"],  # shares nothing with anyone
    "u6": ["a", "b"],  # same as u3: a tie with u3, broken by user id
    "u7": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],  # overlap 3, Jaccard 3/10
}


def _sequences(held_out: dict[str, list[str]]) -> dict[str, list[str]]:
    return {u: items + held_out[u] for u, items in TRAIN.items()}


UNIQUE = {u: [f"v{u}", f"t{u}"] for u in TRAIN}  # held-out items nobody trains on
# Held-out items that *would* change neighbours and audiences if they were read.
SHARED = {
    "u1": ["x", "y"],
    "u2": ["h", "i"],
    "u3": ["x", "j"],
    "u4": ["a", "b"],
    "u5": ["a", "c"],
    "u6": ["y", "e"],
    "u7": ["x", "y"],
}
CATALOGUE = sorted(
    {i for seq in TRAIN.values() for i in seq}
    | {i for pair in UNIQUE.values() for i in pair}
    | {i for pair in SHARED.values() for i in pair}
)


def test_neighbours_by_jaccard_on_a_hand_made_case(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, _sequences(UNIQUE), catalogue=CATALOGUE)
    nbrs = user_neighbours(ds, k=5)
    assert nbrs["u1"] == ["u2", "u3", "u6", "u7", "u4"]
    assert nbrs["u3"] == ["u6", "u1", "u2", "u7"]  # Jaccard 1, 2/3, 1/2, 1/5
    assert nbrs["u5"] == []  # no shared item, no neighbour
    assert all(u not in nbrs[u] for u in nbrs)
    assert user_neighbours(ds, k=2)["u1"] == ["u2", "u3"]
    assert user_neighbours(ds, k=0)["u1"] == []
    # raw overlap ranks the heavy user u7 (3 shared items) above u3 (2)
    assert user_neighbours(ds, k=5, measure="overlap")["u1"] == ["u2", "u7", "u3", "u6", "u4"]
    with pytest.raises(UserError, match="measure"):
        user_neighbours(ds, measure="cosine")  # type: ignore[arg-type]


def test_item_users_most_recent_first_and_cold_items_empty(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, _sequences(UNIQUE), catalogue=CATALOGUE)
    audience = item_users(ds)
    assert set(audience) == set(ds.item_ids)
    # "c": u1 at t=3000, u2 at 3000, u7 at 3000, u4 at 1000 -> time desc, then user id
    assert audience["c"] == ["u1", "u2", "u7", "u4"]
    assert audience["a"] == ["u1", "u2", "u3", "u6", "u7"]  # all at t=1000: by user id
    assert audience["vu1"] == audience["tu1"] == []  # validation / test targets
    assert training_histories(ds)["u4"] == [(i, 5.0) for i in TRAIN["u4"]]


def test_neighbours_and_audiences_ignore_validation_and_test(tmp_path: Path) -> None:
    unique = write_dataset(tmp_path / "unique", _sequences(UNIQUE), catalogue=CATALOGUE)
    shared = write_dataset(tmp_path / "shared", _sequences(SHARED), catalogue=CATALOGUE)
    # the held-out interactions differ (and would add overlaps and audience members) ...
    assert unique.interactions["item_id"].to_list() != shared.interactions["item_id"].to_list()
    # ... but the training side, and so everything derived from it, is the same
    for k in (1, 3, 10):
        assert user_neighbours(unique, k) == user_neighbours(shared, k)
    assert item_users(unique) == item_users(shared)
    assert training_histories(unique) == training_histories(shared)
    assert user_neighbours(shared)["u5"] == []  # u5's held-out a, c are not shared items
    assert "u4" not in item_users(shared)["a"]  # u4's validation target "a" is not an edge
