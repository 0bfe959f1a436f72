"""Bad-input corpus, issue 32: ``select`` keeps no garbage. An empty candidate is never chosen
over a non-empty one; duplicate rows and other users' rows are refused (evaluate's checks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from _embedders import KeywordEmbedder
from bad_input._writes import profiles_of, refused, snapshot, write_set


@pytest.fixture
def select(cli: Any, monkeypatch: pytest.MonkeyPatch, data_copy: Path) -> Any:
    """``profilerec select DATA --candidates A ... --out OUT`` with a real tiny embedder."""
    monkeypatch.setattr("profilerec.embed.load_embedder", lambda *a, **k: KeywordEmbedder())

    def run(*sets: Path) -> tuple[int, str]:
        args = [a for s in sets for a in ("--candidates", s)]
        return cli("select", data_copy, *args, "--out", data_copy.parent / "best")

    return run


def test_an_empty_candidate_set_is_never_chosen(select: Any, data_copy: Path) -> None:
    """All texts embed alike here, so the tie once went to the first (empty) set."""
    empty = write_set(
        data_copy.parent / "empty", profiles_of(data_copy).with_columns(profile=pl.lit(""))
    )
    full = write_set(data_copy.parent / "full", profiles_of(data_copy))
    code, err = select(empty, full)
    assert code == 0, err
    chosen = pl.read_parquet(data_copy.parent / "best" / "profiles.parquet")
    assert set(chosen["profile"]) == {"likes gentle skin care"}
    assert (
        json.loads((data_copy.parent / "best" / "select_config.json").read_text())["unfilled"] == 0
    )


def test_examples_with_only_empty_candidates_are_counted(select: Any, data_copy: Path) -> None:
    frame = profiles_of(data_copy)
    gaps = (
        frame.with_row_index()
        .with_columns(
            profile=pl.when(pl.col("index") < 3).then(pl.lit(" ")).otherwise(pl.col("profile"))
        )
        .drop("index")
    )
    a = write_set(data_copy.parent / "a", gaps)
    b = write_set(data_copy.parent / "b", frame.with_columns(profile=pl.lit("")))
    code, err = select(a, b)
    assert code == 0, err
    record = json.loads((data_copy.parent / "best" / "select_config.json").read_text())
    assert record["unfilled"] == 3
    chosen = pl.read_parquet(data_copy.parent / "best" / "profiles.parquet")
    assert (chosen["profile"].str.strip_chars() == "").sum() == 3


def test_duplicate_example_rows_are_refused(select: Any, data_copy: Path) -> None:
    frame = profiles_of(data_copy)
    a = write_set(data_copy.parent / "a", pl.concat([frame, frame.head(1)]))
    b = write_set(data_copy.parent / "b", frame)
    before = snapshot(data_copy.parent / "a")
    refused(select(b, a), "rows sharing an example_id")
    assert snapshot(data_copy.parent / "a") == before
    assert not (data_copy.parent / "best").exists()


def test_other_users_rows_are_refused(select: Any, data_copy: Path) -> None:
    frame = profiles_of(data_copy)
    shifted = frame.with_columns(pl.col("user_id").shift(1, fill_value="someone-else"))
    a = write_set(data_copy.parent / "a", frame)
    b = write_set(data_copy.parent / "b", shifted)
    refused(select(a, b), "belong to another dataset or split")
    assert not (data_copy.parent / "best").exists()
