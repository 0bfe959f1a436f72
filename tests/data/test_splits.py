"""Splits: leakage-safety (property test), leave-last-out, global time, user-disjoint."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profilerec.data.filters import collapse_duplicates, k_core
from profilerec.data.readers.base import interactions_frame
from profilerec.data.splits import SplitConfig, make_examples
from profilerec.errors import UserError


def log(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    users, items, ts = zip(*rows, strict=True) if rows else ((), (), ())
    return interactions_frame(
        {"user_id": list(users), "item_id": list(items), "timestamp": list(ts)}
    )


logs = st.lists(
    st.tuples(
        st.sampled_from([f"u{i}" for i in range(5)]),
        st.sampled_from([f"i{i}" for i in range(12)]),
        st.integers(min_value=0, max_value=30),  # small range: many equal timestamps
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(
    rows=logs,
    kind=st.sampled_from(["leave_last_out", "global_time", "user_disjoint"]),
    max_history=st.sampled_from([0, 1, 3, 20]),
)
def test_history_never_holds_target_or_anything_at_or_after_it(
    rows: list[tuple[str, str, int]], kind: str, max_history: int
) -> None:
    inter = collapse_duplicates(log(rows))
    config = SplitConfig(kind=kind, max_history=max_history, valid_cut=0.5, test_cut=0.8)  # type: ignore[arg-type]
    examples = make_examples(inter, config)
    times = {(u, i): t for u, i, t in inter.select("user_id", "item_id", "timestamp").iter_rows()}
    for ex in examples.iter_rows(named=True):
        assert ex["item_id"] not in ex["history"]
        for item in ex["history"]:
            assert times[(ex["user_id"], item)] < ex["timestamp"]
        earlier = [i for (u, i), t in times.items() if u == ex["user_id"] and t < ex["timestamp"]]
        assert ex["history_len"] == len(earlier)
        if max_history:
            assert len(ex["history"]) == min(len(earlier), max_history)
        assert set(ex["history"]) <= set(earlier)


def test_leave_last_out_positions_and_order() -> None:
    inter = log(
        [("a", "x", 1), ("a", "y", 2), ("a", "z", 3), ("a", "w", 4), ("b", "x", 5), ("b", "y", 6)]
    )
    ex = make_examples(inter, SplitConfig())
    rows = {
        (r["user_id"], r["item_id"]): (r["split"], r["history"]) for r in ex.iter_rows(named=True)
    }
    assert rows[("a", "w")] == ("test", ["x", "y", "z"])
    assert rows[("a", "z")] == ("valid", ["x", "y"])
    assert rows[("a", "y")] == ("train", ["x"])
    assert ("a", "x") not in rows  # no history: not an example
    assert rows[("b", "y")] == ("test", ["x"])
    assert ex["example_id"].to_list() == list(range(ex.height))


def test_history_truncated_to_most_recent() -> None:
    inter = log([("a", f"i{k}", k) for k in range(10)])
    ex = make_examples(inter, SplitConfig(max_history=3))
    test = ex.filter(pl.col("split") == "test").row(0, named=True)
    assert test["history"] == ["i6", "i7", "i8"]
    assert test["history_len"] == 9


def test_min_history_drops_short_examples() -> None:
    inter = log([("a", f"i{k}", k) for k in range(6)])
    ex = make_examples(inter, SplitConfig(min_history=3))
    assert ex["history_len"].min() == 3
    assert ex.height == 3


def test_global_time_split_by_target_time() -> None:
    inter = log([("a", f"i{k}", k * 10) for k in range(10)])
    ex = make_examples(inter, SplitConfig(kind="global_time", valid_cut=50, test_cut=80))
    by = {r["timestamp"]: r["split"] for r in ex.iter_rows(named=True)}
    assert by[40] == "train" and by[50] == "valid" and by[70] == "valid" and by[80] == "test"


def test_global_time_rejects_reversed_cuts() -> None:
    inter = log([("a", "x", 1), ("a", "y", 2)])
    with pytest.raises(UserError, match="validation cut"):
        make_examples(inter, SplitConfig(kind="global_time", valid_cut=90, test_cut=10))


def test_user_disjoint_users_do_not_overlap() -> None:
    inter = log([(f"u{u}", f"i{k}", k) for u in range(50) for k in range(5)])
    ex = make_examples(
        inter, SplitConfig(kind="user_disjoint", valid_users=0.2, test_users=0.2, seed=3)
    )
    users = {s: set(ex.filter(pl.col("split") == s)["user_id"]) for s in ("train", "valid", "test")}
    assert len(users["test"]) == 10 and len(users["valid"]) == 10 and len(users["train"]) == 30
    assert not users["test"] & users["train"] and not users["valid"] & users["train"]
    # every position of an unseen user is evaluated
    assert ex.filter(pl.col("split") == "test").height == 10 * 4


def test_unknown_split_kind() -> None:
    with pytest.raises(UserError, match="unknown split"):
        make_examples(log([("a", "x", 1), ("a", "y", 2)]), SplitConfig(kind="bogus"))  # type: ignore[arg-type]


def test_collapse_keeps_earliest_and_k_core_iterates() -> None:
    inter = log([("a", "x", 5), ("a", "x", 1), ("a", "y", 2)])
    dedup = collapse_duplicates(inter)
    assert sorted(dedup.select("item_id", "timestamp").rows()) == [("x", 1), ("y", 2)]
    # b's only item z is shared with nobody: 2-core removes b, then nothing else changes
    inter = log(
        [("a", "x", 1), ("a", "y", 2), ("c", "x", 3), ("c", "y", 4), ("b", "z", 5), ("b", "x", 6)]
    )
    core = k_core(inter, 2)
    assert set(core["user_id"]) == {"a", "c"}
    assert k_core(inter, 0).height == inter.height
