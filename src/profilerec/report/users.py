"""Example users side by side: history, each profile, each method's top items.

Reading a few real cases next to the averages is how one notices a method that
scores well for the wrong reason (e.g. recommending the history back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError


@dataclass(frozen=True)
class ItemLine:
    title: str
    is_target: bool
    #: The untruncated title, shown on hover.
    full: str = ""


@dataclass(frozen=True)
class MethodTop:
    method: str
    #: 1-based rank of the true next item under this method.
    target_rank: int
    items: list[ItemLine]


@dataclass(frozen=True)
class UserCard:
    example_id: int
    user_id: str
    #: Titles of the last items before the target, oldest first.
    history: list[str]
    #: How many earlier items are not shown.
    n_earlier: int
    target: str
    #: The untruncated titles of ``history`` and ``target``, shown on hover.
    history_full: list[str]
    target_full: str
    #: (profile set, text); text is None when the set has no profile for this example.
    profiles: list[tuple[str, str | None]]
    tops: list[MethodTop]


@dataclass(frozen=True)
class BeforeAfter:
    example_id: int
    user_id: str
    before: str | None
    after: str | None
    #: Target rank under the methods named like the two sets, when they were evaluated.
    rank_before: int | None
    rank_after: int | None


def pick_examples(
    ranks: pl.DataFrame, profiles: Mapping[str, pl.DataFrame], n: int, seed: int
) -> list[int]:
    """``n`` evaluated example ids, drawn with a seeded RNG among those every profile set covers.

    Falls back to all evaluated examples when the sets share none with ``ranks``
    (e.g. profiles of another split), so the section still shows the rankings.
    """
    pool = set(ranks["example_id"].to_list())
    covered = pool.copy()
    for frame in profiles.values():
        covered &= set(frame["example_id"].to_list())
    candidates = sorted(covered or pool)
    if n <= 0 or not candidates:
        return []
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(candidates), size=min(n, len(candidates)), replace=False)
    return sorted(candidates[i] for i in chosen)


def short(title: str, limit: int) -> str:
    """Marketplace titles run to 300 characters; the report shows the start."""
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def user_cards(
    example_ids: Sequence[int],
    ranks: pl.DataFrame,
    dataset: Dataset,
    profiles: Mapping[str, pl.DataFrame],
    methods: Sequence[str],
    *,
    n_history: int = 10,
    top_n: int = 5,
) -> list[UserCard]:
    titles = _titles(dataset)
    examples = dataset.examples.filter(pl.col("example_id").is_in(list(example_ids)))
    by_example = {row["example_id"]: row for row in examples.iter_rows(named=True)}
    missing = [e for e in example_ids if e not in by_example]
    if missing:
        raise UserError(
            f"example_id {missing[0]} is ranked but not in the dataset at {dataset.root}; "
            "build the report with the dataset the run evaluated"
        )
    texts = {name: _by_example(frame, "profile") for name, frame in profiles.items()}
    rank_rows = {
        (r["method"], r["example_id"]): r
        for r in ranks.filter(pl.col("example_id").is_in(list(example_ids))).iter_rows(named=True)
    }
    cards = []
    for eid in example_ids:
        ex = by_example[eid]
        history = list(ex["history"])[-n_history:]
        tops = []
        for method in methods:
            row = rank_rows.get((method, eid))
            if row is None:
                continue
            items = [
                ItemLine(short(titles.get(i, i), 64), i == ex["item_id"], titles.get(i, i))
                for i in row["top10"]
            ]
            tops.append(MethodTop(method, int(row["target_rank"]), items[:top_n]))
        cards.append(
            UserCard(
                example_id=eid,
                user_id=ex["user_id"],
                history=[short(titles.get(i, i), 100) for i in history],
                n_earlier=max(0, int(ex["history_len"]) - len(history)),
                target=short(titles.get(ex["item_id"], ex["item_id"]), 120),
                history_full=[titles.get(i, i) for i in history],
                target_full=titles.get(ex["item_id"], ex["item_id"]),
                profiles=[(name, t.get(eid)) for name, t in texts.items()],
                tops=tops,
            )
        )
    return cards


def before_after(
    example_ids: Sequence[int],
    ranks: pl.DataFrame,
    profiles: Mapping[str, pl.DataFrame],
    pair: tuple[str, str],
) -> list[BeforeAfter]:
    """The same examples' profiles from two sets (e.g. before and after training)."""
    check_pairs(profiles, [pair])
    before, after = (_by_example(profiles[name], "profile") for name in pair)
    users = _by_example(ranks, "user_id")
    target = {
        (r["method"], r["example_id"]): int(r["target_rank"])
        for r in ranks.filter(pl.col("method").is_in(list(pair))).iter_rows(named=True)
    }
    return [
        BeforeAfter(
            example_id=eid,
            user_id=users.get(eid, ""),
            before=before.get(eid),
            after=after.get(eid),
            rank_before=target.get((pair[0], eid)),
            rank_after=target.get((pair[1], eid)),
        )
        for eid in example_ids
    ]


def check_pairs(profiles: Mapping[str, pl.DataFrame], pairs: Sequence[tuple[str, str]]) -> None:
    unknown = [name for pair in pairs for name in pair if name not in profiles]
    if unknown:
        raise UserError(
            f"before/after pair names unknown profile set {unknown[0]!r}; "
            f"known sets: {', '.join(profiles) or 'none'}"
        )


def _titles(dataset: Dataset) -> dict[str, str]:
    items = dataset.items.select("item_id", "title")
    return {i: (t or i) for i, t in items.iter_rows()}


def _by_example(frame: pl.DataFrame, column: str) -> dict[int, str]:
    return dict(zip(frame["example_id"].to_list(), frame[column].to_list(), strict=True))
