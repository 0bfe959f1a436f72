"""Filters applied between reading and splitting: dedupe, k-core, item metadata policy."""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl

from profilerec.errors import UserError

MissingMeta = Literal["keep", "drop", "error"]


def collapse_duplicates(inter: pl.DataFrame) -> pl.DataFrame:
    """Keep each (user, item) pair's earliest interaction; ties keep the first read.

    The official Amazon 2023 benchmarks do the same, so a re-review does not count
    as a second purchase (and cannot leak the target into its own history).
    """
    has_row = "_row" in inter.columns
    frame = inter if has_row else inter.with_row_index("_row")
    frame = frame.sort(["timestamp", "_row"]).unique(
        subset=["user_id", "item_id"], keep="first", maintain_order=True
    )
    return frame if has_row else frame.drop("_row")


def k_core(inter: pl.DataFrame, k: int) -> pl.DataFrame:
    """Iteratively drop users and items with fewer than ``k`` interactions (k=0 or 1: no-op).

    Written by hand on integer codes with ``np.bincount``: each pass is a few array
    operations instead of two string group-bys, and the (possibly wide) frame is
    filtered once at the end.
    """
    if k <= 1 or inter.height == 0:
        return inter
    codes = inter.select(
        pl.col("user_id").cast(pl.Categorical).to_physical().alias("u"),
        pl.col("item_id").cast(pl.Categorical).to_physical().alias("i"),
    )
    users = codes["u"].to_numpy().astype(np.int64)
    items = codes["i"].to_numpy().astype(np.int64)
    pos = np.arange(len(users))
    while True:
        keep = (np.bincount(users)[users] >= k) & (np.bincount(items)[items] >= k)
        if keep.all():
            break
        users, items, pos = users[keep], items[keep], pos[keep]
    return inter[pos] if len(pos) < inter.height else inter


def apply_meta_policy(
    inter: pl.DataFrame, items: pl.DataFrame, policy: MissingMeta, source: str
) -> tuple[pl.DataFrame, int]:
    """Handle interactions whose item has no metadata record.

    Returns the interactions to keep and how many referenced items lack metadata.
    """
    known = items.select("item_id")
    unknown = inter.join(known, on="item_id", how="anti")
    n_items = unknown["item_id"].n_unique()
    if n_items == 0:
        return inter, n_items
    if policy == "error":
        first = unknown["item_id"][0]
        raise UserError(
            f"{source}: {unknown.height} interactions reference {n_items} item(s) with no "
            f"metadata record (first: {first}); pass --missing-meta keep or drop"
        )
    if policy == "drop":
        return inter.join(known, on="item_id", how="semi"), n_items
    return inter, n_items


def catalogue(inter: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Items table restricted to interacted items (sorted by id), with placeholders for missing meta."""
    ids = inter.select(pl.col("item_id").unique().sort())
    have = ids.join(items.unique(subset="item_id", keep="first"), on="item_id", how="left")
    return have.with_columns(
        pl.col("has_meta").fill_null(False),
        pl.col("title").fill_null(""),
        pl.col("description").fill_null(""),
        pl.col("features").fill_null([]),
        pl.col("categories").fill_null([]),
        pl.col("store").fill_null(""),
        pl.col("details").fill_null(""),
    ).select(items.columns)
