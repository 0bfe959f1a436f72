"""Evaluation slices (cold-start users, long-tail items and users) and per-slice summaries.

Every slice is defined from TRAINING interactions only (``dataset.train_interactions()``),
so which examples fall in a slice never depends on a validation or test target:

- ``cold_users``: the example's user has at most ``cold_user_max`` training interactions
  (users with none count as cold); ``warm_users`` is the rest.
- ``tail_items``: the example's target is among the bottom ``tail_item_frac`` of catalogue
  items by training popularity (training interactions per item); ``head_items`` is the rest.
- ``tail_users``: the example's user is among the bottom ``tail_user_frac`` of all users
  (``user_order``) by training activity; ``head_users`` is the rest.
- ``overall``: every example.

"Bottom fraction" ranks by count, most first, ties broken by catalogue (or user) order,
and puts the last ``round(frac * n)`` in the tail, so the tail holds exactly that share of
items (users) whatever the ties; the boundary between equal counts is arbitrary but fixed.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.evaluate.protocol import EvaluateConfig, summarise
from profilerec.recsys.graph import user_order

SLICES = (
    "overall",
    "cold_users",
    "warm_users",
    "tail_items",
    "head_items",
    "tail_users",
    "head_users",
)


def _counts(frame: pl.DataFrame, key: str, universe: list[str]) -> np.ndarray:
    """Rows per ``key`` value, in ``universe`` order (0 for values never seen)."""
    counted = frame.group_by(key).len()
    by_key = dict(zip(counted[key].to_list(), counted["len"].to_list(), strict=True))
    return np.array([by_key.get(v, 0) for v in universe], dtype=np.int64)


def item_popularity(dataset: Dataset) -> np.ndarray:
    """``[n_items]`` training interactions per catalogue item (catalogue order)."""
    return _counts(dataset.train_interactions(), "item_id", dataset.item_ids)


def user_activity(dataset: Dataset) -> np.ndarray:
    """``[n_users]`` training interactions per user (``user_order`` rows)."""
    return _counts(dataset.train_interactions(), "user_id", user_order(dataset))


def bottom_fraction(counts: np.ndarray, frac: float) -> np.ndarray:
    """Boolean mask of the ``round(frac * n)`` entries with the lowest counts.

    Ranked by count (most first) with ties broken by position, the last ones are the tail.
    """
    if not 0.0 < frac < 1.0:
        raise UserError(f"tail fractions must be between 0 and 1 (exclusive), got {frac}")
    order = np.lexsort((np.arange(len(counts)), -counts))  # most first, then by position
    tail = np.zeros(len(counts), dtype=bool)
    n_tail = round(frac * len(counts))
    if n_tail:
        tail[order[len(counts) - n_tail :]] = True
    return tail


def slice_masks(
    dataset: Dataset,
    examples: pl.DataFrame,
    *,
    cold_user_max: int = 5,
    tail_item_frac: float = 0.8,
    tail_user_frac: float = 0.8,
) -> dict[str, np.ndarray]:
    """Boolean mask per slice (see the module docstring), one entry per row of ``examples``.

    ``examples`` needs ``user_id`` and ``item_id`` (e.g. ``dataset.split("test")``); only
    their users and targets are read, never other held-out interactions.
    """
    if cold_user_max < 0:
        raise UserError(f"cold_user_max must be non-negative, got {cold_user_max}")
    activity = user_activity(dataset)
    item_tail = bottom_fraction(item_popularity(dataset), tail_item_frac)
    user_tail = bottom_fraction(activity, tail_user_frac)
    users = user_order(dataset)
    user_row = {u: i for i, u in enumerate(users)}
    index = dataset.item_index
    missing = [i for i in examples["item_id"] if i not in index]
    if missing:
        raise UserError(f"target item {missing[0]!r} is not in the catalogue")
    strangers = [u for u in examples["user_id"] if u not in user_row]
    if strangers:
        raise UserError(f"user {strangers[0]!r} is not in the dataset")
    targets = np.array([index[i] for i in examples["item_id"]], dtype=np.int64)
    rows = np.array([user_row[u] for u in examples["user_id"]], dtype=np.int64)
    cold = activity[rows] <= cold_user_max
    tail_items = item_tail[targets]
    tail_users = user_tail[rows]
    return {
        "overall": np.ones(examples.height, dtype=bool),
        "cold_users": cold,
        "warm_users": ~cold,
        "tail_items": tail_items,
        "head_items": ~tail_items,
        "tail_users": tail_users,
        "head_users": ~tail_users,
    }


#: The slices ``evaluate`` reports for every method (``evaluate_slice_masks``).
EVAL_SLICES = ("overall", "cold_items", "short_history", "tail_items", "rest")


def evaluate_slice_masks(
    dataset: Dataset,
    examples: pl.DataFrame,
    *,
    cold_item_max: int = 5,
    short_history_max: int = 4,
    tail_item_frac: float = 0.8,
) -> dict[str, np.ndarray]:
    """The regimes where text should win, from training counts only, one mask per slice:

    - ``cold_items``: the target has at most ``cold_item_max`` training interactions;
    - ``short_history``: the user had 1..``short_history_max`` items before the target;
    - ``tail_items``: the target is in the bottom ``tail_item_frac`` of items by
      training popularity (overlaps ``cold_items``);
    - ``rest``: in none of the above; ``overall``: every example.
    """
    if cold_item_max < 0 or short_history_max < 1:
        raise UserError(
            f"cold_item_max must be >= 0 and short_history_max >= 1 "
            f"(got {cold_item_max}, {short_history_max})"
        )
    index = dataset.item_index
    missing = [i for i in examples["item_id"] if i not in index]
    if missing:
        raise UserError(f"target item {missing[0]!r} is not in the catalogue")
    popularity = item_popularity(dataset)
    targets = np.array([index[i] for i in examples["item_id"]], dtype=np.int64)
    earlier = np.array([len(m) for m in dataset.seen_before(examples)], dtype=np.int64)
    cold = popularity[targets] <= cold_item_max
    short = (earlier >= 1) & (earlier <= short_history_max)
    tail = bottom_fraction(popularity, tail_item_frac)[targets]
    return {
        "overall": np.ones(examples.height, dtype=bool),
        "cold_items": cold,
        "short_history": short,
        "tail_items": tail,
        "rest": ~(cold | short | tail),
    }


def _cutoffs(per_user: dict[str, dict[str, np.ndarray]]) -> tuple[int, ...]:
    """Cut-offs K with both ``ndcg@K`` and ``recall@K`` in every method's table."""
    sets = [
        {int(m.group(1)) for name in table if (m := re.fullmatch(r"ndcg@(\d+)", name))}
        & {int(m.group(1)) for name in table if (m := re.fullmatch(r"recall@(\d+)", name))}
        for table in per_user.values()
    ]
    ks = set.intersection(*sets) if sets else set()
    if not ks:
        raise UserError(
            "per-example tables need ndcg@K and recall@K columns (as default_metrics gives)"
        )
    return tuple(sorted(ks))


def sliced_summary(
    per_user: dict[str, dict[str, np.ndarray]],
    masks: dict[str, np.ndarray],
    bootstrap: int = 1000,
    seed: int = 0,
    *,
    reference: str | None = None,
    groups: np.ndarray | None = None,
) -> dict[str, dict[str, object]]:
    """Per slice: ``n`` (examples in it) and, as ``evaluate`` writes for the whole split,
    means, bootstrap CIs and paired tests against ``reference``, on the slice's examples
    (resampling whole users when ``groups`` gives each example's user).

    ``per_user`` is method -> metric -> per-example values in the masks' row order. An
    empty slice gets ``n = 0`` and empty metrics.
    """
    if not per_user:
        raise UserError("no methods to summarise")
    lengths = {len(v) for table in per_user.values() for v in table.values()}
    lengths |= {len(m) for m in masks.values()}
    if len(lengths) > 1:
        raise UserError(
            f"per-example values and slice masks differ in length ({sorted(lengths)}); "
            "compute them on the same examples"
        )
    config = EvaluateConfig(
        ks=_cutoffs(per_user), bootstrap=bootstrap, seed=seed, reference=reference
    )
    out: dict[str, dict[str, object]] = {}
    for name, mask in masks.items():
        mask = np.asarray(mask, dtype=bool)
        n = int(mask.sum())
        if n == 0:
            out[name] = {"n": 0, "metrics": {}, "ci": {}, "reference": reference, "comparisons": []}
            continue
        subset = {m: {k: v[mask] for k, v in t.items()} for m, t in per_user.items()}
        sub_groups = None if groups is None else np.asarray(groups)[mask]
        out[name] = {"n": n, **summarise(subset, config, sub_groups)}
    return out
