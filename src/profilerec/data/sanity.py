"""The data-sanity pass of ``prepare``: flags that cannot be right, and data that is suspicious.

Errors (a :class:`UserError`, nothing written) where the output could not be right:
bad flag values, future timestamps (one would become a user's test target), no examples.
Warnings (listed in the summary and in ``manifest.json["warnings"]``) where the data is
probably wrong but the output is still well defined. docs/dataset.md lists them and why.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import polars as pl

from profilerec.errors import UserError

if TYPE_CHECKING:
    from profilerec.data.prepare_config import PrepareConfig

#: 1973-03-03 in ms: a log whose every timestamp is earlier holds seconds, not ms.
SECONDS_AS_MS = 100_000_000_000
#: Timestamps more than this after now (ms) are in the future: clock or unit errors.
FUTURE_SLACK_MS = 86_400_000
#: Rating scale per format, where the format defines one.
RATING_SCALES: dict[str, tuple[float, float]] = {
    "amazon2023": (1.0, 5.0),
    "amazon2018": (1.0, 5.0),
    "amazon2014": (1.0, 5.0),
    "google_local": (1.0, 5.0),
    "movielens": (0.5, 5.0),
}
#: Formats whose readers look for a metadata file beside the reviews.
META_FORMATS = ("amazon2023", "amazon2018", "amazon2014", "google_local", "movielens", "recbole")
SPLIT_KINDS = ("leave_last_out", "global_time", "user_disjoint")


def validate_config(config: PrepareConfig) -> None:
    """Reject flag values that cannot be right, before any file is read."""
    split = config.split
    if config.k_core < 0:
        raise UserError(f"--k-core must be >= 0 (0 disables it), not {config.k_core}")
    if config.missing_meta not in ("keep", "drop", "error"):
        raise UserError(f"--missing-meta must be keep, drop or error, not {config.missing_meta!r}")
    if split.kind not in SPLIT_KINDS:
        raise UserError(f"unknown split {split.kind!r}; choose {', '.join(SPLIT_KINDS)}")
    if split.min_history < 0 or split.max_history < 0:
        raise UserError("--min-history and --max-history must be >= 0")
    for name, value in (("--valid-users", split.valid_users), ("--test-users", split.test_users)):
        if not 0 <= value < 1:
            raise UserError(f"{name} must be a fraction in [0, 1), not {value}")
    if split.kind == "user_disjoint" and split.valid_users + split.test_users >= 1:
        raise UserError("--valid-users plus --test-users must be below 1: no training users left")
    for name, cut in (("--valid-cut", split.valid_cut), ("--test-cut", split.test_cut)):
        if not cut > 0 or cut == float("inf"):
            raise UserError(f"{name} must be a fraction in (0, 1) or a ms timestamp, not {cut}")
    if not MEMORY_LIMIT.fullmatch(config.memory_limit.strip()):
        raise UserError(
            f"--memory-limit {config.memory_limit!r} is not a size like 4GB (a positive "
            "number and a unit; DuckDB would read a negative one as no limit at all)"
        )
    if config.threads < 1:
        raise UserError(f"threads must be at least 1, not {config.threads}")


#: A positive DuckDB memory size: DuckDB reads "-4GB" as no limit at all.
MEMORY_LIMIT = re.compile(
    r"(?i)0*[1-9][0-9]*(\.[0-9]+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?|0*\.[0-9]*[1-9][0-9]*\s*(kb|mb|gb|tb|kib|mib|gib|tib)"
)


def frame_stats(inter: pl.DataFrame, fmt: str) -> dict[str, Any]:
    """What :func:`stats_warnings` needs, from an in-memory frame (first = first read)."""
    low, high = RATING_SCALES.get(fmt, (float("-inf"), float("inf")))
    future = inter.filter(pl.col("timestamp") > now_ms() + FUTURE_SLACK_MS)
    out = inter.filter((pl.col("rating") < low) | (pl.col("rating") > high))
    first = future.row(0, named=True) if future.height else None
    return {
        "n_future": future.height,
        "first_future": (first["user_id"], first["item_id"], first["timestamp"]) if first else None,
        "n_negative": int((inter["timestamp"] < 0).sum()),
        "max_ts": inter["timestamp"].max(),
        "n_out_of_scale": out.height,
        "first_out_of_scale": out["rating"][0] if out.height else None,
    }


def now_ms() -> int:
    return int(time.time() * 1000)


def stats_warnings(stats: dict[str, Any], fmt: str, source: str) -> list[str]:
    """Timestamp and rating checks on the interactions as read; returns warnings."""
    warnings: list[str] = []
    if stats["n_future"]:
        user, item, ts = stats["first_future"]
        raise UserError(
            f"{source}: {stats['n_future']:,} interaction(s) have timestamps in the future "
            f"(first: user {user}, item {item}, {ts} ms); such an item would become its "
            "user's test target. Check the time unit"
            + (" (--time-unit)" if fmt in ("csv", "parquet") else "")
        )
    if stats["n_negative"]:
        warnings.append(
            f"{stats['n_negative']:,} interaction(s) have negative timestamps (before 1970)"
        )
    if stats["max_ts"] is not None and int(stats["max_ts"]) < SECONDS_AS_MS:
        hint = " (pass --time-unit s)" if fmt in ("csv", "parquet") else ""
        warnings.append(
            "every timestamp is before 1973-03-03 read as milliseconds: the source probably "
            f"holds seconds{hint}; order and splits are unaffected, dates and ms cuts are wrong"
        )
    if stats["n_out_of_scale"]:
        low, high = RATING_SCALES[fmt]
        warnings.append(
            f"{stats['n_out_of_scale']:,} rating(s) outside the {fmt} scale {low:g}-{high:g} "
            f"(first: {stats['first_out_of_scale']:g}); they are kept as read"
        )
    return warnings


def check_meta(items: pl.DataFrame, fmt: str) -> tuple[int, list[str]]:
    """Count duplicate metadata records (the first read wins) and flag a missing meta file."""
    n_unique = items["item_id"].n_unique() if items.height else 0
    return meta_counts_warnings(items.height, n_unique, fmt)


def meta_counts_warnings(n_records: int, n_unique: int, fmt: str) -> tuple[int, list[str]]:
    """:func:`check_meta` from counts (the streaming engine counts in SQL)."""
    if n_records == 0:
        if fmt in META_FORMATS:
            return 0, [
                "no item metadata was found (no meta file beside the reviews): every item "
                "has placeholder text, so text-based methods see only ids"
            ]
        return 0, []
    duplicates = n_records - n_unique
    if duplicates:
        return duplicates, [
            f"{duplicates:,} duplicate metadata record(s) for the same item id; the first read is kept"
        ]
    return 0, []


def check_splits(split_counts: dict[str, int], config: PrepareConfig) -> list[str]:
    """No examples at all is an error; an empty split is a warning naming the flags to change."""
    total = sum(split_counts.values())
    if total == 0:
        raise UserError(
            f"no examples: no user has --min-history {config.split.min_history} earlier items "
            "after filtering; lower --min-history or --k-core"
        )
    return [
        f"the {name} split is empty (split {config.split.kind}); later stages that need it will fail"
        for name in ("train", "valid", "test")
        if split_counts.get(name, 0) == 0
    ]
