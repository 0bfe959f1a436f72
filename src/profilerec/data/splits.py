"""Turn filtered interactions into prediction examples with train/valid/test splits.

Leakage rule enforced here and proven by tests: an example's ``history`` holds only
items the user interacted with *strictly before* the target's timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from profilerec.data.schema import EXAMPLE_COLUMNS
from profilerec.errors import UserError

SplitKind = Literal["leave_last_out", "global_time", "user_disjoint"]


@dataclass
class SplitConfig:
    """How examples are made and split."""

    kind: SplitKind = "leave_last_out"
    #: Keep at most this many most recent history items per example (0 = all).
    max_history: int = 20
    #: Examples need at least this many earlier items.
    min_history: int = 1
    #: global_time: cut points as ms timestamps, or as fractions in (0, 1) of all
    #: interactions by time (e.g. 0.8, 0.9): train < valid_cut <= valid < test_cut <= test.
    valid_cut: float = 0.8
    test_cut: float = 0.9
    #: user_disjoint: fractions of users held out for validation and test.
    valid_users: float = 0.1
    test_users: float = 0.1
    seed: int = 0


def make_examples(inter: pl.DataFrame, config: SplitConfig) -> pl.DataFrame:
    """One example per (user, position) with enough history, labelled with its split."""
    if config.min_history < 0 or config.max_history < 0:
        raise UserError("--min-history and --max-history must be >= 0")
    keys = inter.select("user_id", "item_id", "timestamp")  # never sort the review text
    seq = keys.sort(["user_id", "timestamp"], maintain_order=True).with_columns(
        pl.int_range(pl.len()).over("user_id").cast(pl.Int32).alias("position"),
        pl.len().over("user_id").cast(pl.Int32).alias("_n"),
    )
    # Items sharing the target's timestamp are not "before" it: history ends at the
    # first position holding that timestamp.
    seq = seq.with_columns(
        pl.col("position").min().over(["user_id", "timestamp"]).alias("history_len")
    )
    lists = seq.group_by("user_id").agg(pl.col("item_id").alias("_items"))
    keep = config.max_history or None
    start = pl.max_horizontal(pl.col("history_len") - keep, pl.lit(0)) if keep else pl.lit(0)
    ex = seq.join(lists, on="user_id", how="left").with_columns(
        pl.col("_items").list.slice(start, pl.col("history_len") - start).alias("history")
    )
    ex = ex.with_columns(_assign(ex, config).alias("split"))
    ex = ex.filter(pl.col("split").is_not_null() & (pl.col("history_len") >= config.min_history))
    ex = ex.sort(["user_id", "position"]).with_row_index("example_id")
    return ex.with_columns(pl.col("example_id").cast(pl.Int64)).select(EXAMPLE_COLUMNS)


def _assign(ex: pl.DataFrame, config: SplitConfig) -> pl.Series:
    pos, n = pl.col("position"), pl.col("_n")
    if config.kind == "leave_last_out":
        expr = (
            pl.when(pos == n - 1)
            .then(pl.lit("test"))
            .when(pos == n - 2)
            .then(pl.lit("valid"))
            .otherwise(pl.lit("train"))
        )
        return ex.select(expr.alias("s"))["s"]
    if config.kind == "global_time":
        valid_cut, test_cut = _cuts(ex["timestamp"], config)
        t = pl.col("timestamp")
        expr = (
            pl.when(t >= test_cut)
            .then(pl.lit("test"))
            .when(t >= valid_cut)
            .then(pl.lit("valid"))
            .otherwise(pl.lit("train"))
        )
        return ex.select(expr.alias("s"))["s"]
    if config.kind == "user_disjoint":
        label = user_disjoint_labels(ex["user_id"].unique().to_list(), config)
        return ex["user_id"].replace_strict(label, default="train", return_dtype=pl.String)
    raise UserError(
        f"unknown split {config.kind!r}; choose leave_last_out, global_time or user_disjoint"
    )


def user_disjoint_labels(users: list[str], config: SplitConfig) -> dict[str, str]:
    """Held-out users (seeded shuffle of the sorted ids) -> "test"/"valid"; others train."""
    ordered = np.array(sorted(users), dtype=object)
    rng = np.random.default_rng(config.seed)
    rng.shuffle(ordered)
    n_test = round(len(ordered) * config.test_users)
    n_valid = round(len(ordered) * config.valid_users)
    label = {u: "test" for u in ordered[:n_test]}
    label.update({u: "valid" for u in ordered[n_test : n_test + n_valid]})
    return label


def _cuts(ts: pl.Series, config: SplitConfig) -> tuple[int, int]:
    cuts = []
    for cut in (config.valid_cut, config.test_cut):
        if 0 < cut < 1:
            cuts.append(int(np.quantile(ts.to_numpy(), cut)))
        elif cut >= 1:
            cuts.append(int(cut))
        else:
            raise UserError(f"cut point {cut} must be a fraction in (0, 1) or a ms timestamp")
    if cuts[0] > cuts[1]:
        raise UserError("the validation cut must not come after the test cut")
    return cuts[0], cuts[1]
