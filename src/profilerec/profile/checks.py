"""What a profile set must be, checked before anything uses it: one-line ``UserError``s.

Shared by ``evaluate`` (``evaluate/checks.py`` re-exports these), ``select``, ``qa`` and
``serve``; it sits in ``profile/`` so that ``select`` need not import the evaluate stage.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from profilerec.errors import UserError

#: Columns a profile set must carry to be matched to examples.
PROFILE_COLUMNS = ("example_id", "user_id", "profile")


def check_profile_frame(name: str, frame: pl.DataFrame, source: str = "") -> None:
    """A profile set has the columns evaluation reads and one row per example."""
    where = f" ({source})" if source else ""
    missing = [c for c in PROFILE_COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(
            f"profiles {name!r}{where} lack column(s) {', '.join(missing)}; "
            "expected a file written by `profilerec profile`"
        )
    null = frame["profile"].is_null()
    if null.any():
        first = frame.filter(null)["example_id"][0]
        raise UserError(
            f"profiles {name!r}{where} have {int(null.sum())} null profile texts "
            f"(first example_id {first}); write them again or store an empty string"
        )
    dup = frame["example_id"].is_duplicated()
    if dup.any():
        first = frame.filter(dup)["example_id"][0]
        raise UserError(
            f"profiles {name!r}{where} have {int(dup.sum())} rows sharing an example_id "
            f"(first {first}); keep one profile per example"
        )


def check_same_users(name: str, examples: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Refuse profiles whose example_id is another user's here (another dataset or split);
    returns the examples joined with their profiles. Shared by evaluate, select, qa, serve."""
    joined = examples.select("example_id", "user_id").join(
        frame.select("example_id", pl.col("user_id").alias("profile_user"), "profile"),
        on="example_id",
        how="inner",
    )
    wrong = joined.filter(
        pl.col("user_id").cast(pl.String) != pl.col("profile_user").cast(pl.String)
    )
    if wrong.height:
        row: dict[str, Any] = wrong.row(0, named=True)
        raise UserError(
            f"profiles {name!r} belong to another dataset or split: example_id "
            f"{row['example_id']} is user {row['user_id']} here but {row['profile_user']} in the "
            f"profiles ({wrong.height} examples differ)"
        )
    return joined
