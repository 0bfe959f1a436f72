"""CSV/TSV/Parquet reader: column mapping, time units, item tables, located errors."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from profilerec.data.readers import ReadOptions, get_reader
from profilerec.errors import DataError, UserError

FIXTURES = Path(__file__).parent / "fixtures" / "tabular"
MAPPING = {
    "user_id": "uid",
    "item_id": "movie",
    "timestamp": "when",
    "rating": "stars",
    "review_title": "headline",
    "title": "name",
    "categories": "genres",
    "price": "cost",
    "description": "blurb",
}


def ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


def test_folder_with_mapping_and_iso_times() -> None:
    raw = get_reader("csv")(FIXTURES / "folder", ReadOptions(columns=MAPPING, time_unit="iso"))
    assert raw.interactions.rows() == [
        # "007" stays text; an empty rating is null, not an error.
        ("007", "m1", 1614834367000, 4.5, "Good, really", ""),  # 2021-03-04T05:06:07Z
        ("007", "m2", 1614902400000, 3.0, "", ""),  # date only: midnight UTC
        ("alice", "m1", 1614985200000, None, "Fine", ""),  # 00:00+01:00 = 23:00Z the day before
    ]
    assert ms(2021, 3, 4, 5, 6, 7) == 1614834367000
    items = {row["item_id"]: row for row in raw.items.to_dicts()}
    assert items["m1"]["title"] == "Heat"
    assert items["m1"]["categories"] == ["Crime", "Thriller"]
    assert items["m1"]["price"] == 9.99
    assert items["m1"]["description"] == "A heist film"
    assert items["m2"]["categories"] == ["Animation"]
    assert items["m2"]["price"] is None
    assert [p.name for p in raw.sources] == ["interactions.csv", "items.csv"]


def test_tsv_in_milliseconds_without_mapping_for_optional_columns() -> None:
    options = ReadOptions(
        columns={"user_id": "user", "item_id": "item", "timestamp": "ts"}, time_unit="ms"
    )
    raw = get_reader("csv")(FIXTURES / "log.tsv", options)
    assert raw.interactions.select("user_id", "item_id", "timestamp", "rating").rows() == [
        ("u1", "i1", 1600000000000, None),
        ("u1", "i2", 1600000001000, None),
    ]
    assert raw.items.height == 0


def test_gzip_csv_with_seconds(tmp_path: Path) -> None:
    text = "user_id,item_id,timestamp,rating\na,x,1600000000,5\na,y,1600000000.25,\n"
    with gzip.open(tmp_path / "log.csv.gz", "wt") as fh:
        fh.write(text)
    raw = get_reader("csv")(tmp_path / "log.csv.gz", ReadOptions())
    assert raw.interactions.select("user_id", "item_id", "timestamp", "rating").rows() == [
        ("a", "x", 1600000000000, 5.0),
        ("a", "y", 1600000000250, None),
    ]


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    noon = pl.Series([datetime(2021, 6, 1, 12), datetime(2021, 6, 2, 12)], dtype=pl.Datetime("ms"))
    at = noon.dt.replace_time_zone("Europe/Paris")  # wall-clock noon in Paris
    pl.DataFrame({"uid": [7, 7], "iid": [1, 2], "at": at}).write_parquet(
        tmp_path / "interactions.parquet"
    )
    pl.DataFrame(
        {"iid": [1, 2], "categories": [["A", "B"], []], "title": ["One", "Two"]}
    ).write_parquet(tmp_path / "items.parquet")
    options = ReadOptions(columns={"user_id": "uid", "item_id": "iid", "timestamp": "at"})
    raw = get_reader("parquet")(tmp_path, options)
    # 12:00 Paris summer time = 10:00 UTC; the datetime type needs no --time-unit.
    assert raw.interactions.select("user_id", "item_id", "timestamp").rows() == [
        ("7", "1", ms(2021, 6, 1, 10)),
        ("7", "2", ms(2021, 6, 2, 10)),
    ]
    assert raw.items.select("item_id", "title", "categories").rows() == [
        ("1", "One", ["A", "B"]),
        ("2", "Two", []),
    ]


def test_missing_mapped_column_names_file_and_columns() -> None:
    options = ReadOptions(columns={"user_id": "uid", "item_id": "movie"}, time_unit="iso")
    with pytest.raises(UserError) as info:
        get_reader("csv")(FIXTURES / "folder", options)
    assert str(info.value) == (
        f"{FIXTURES / 'folder' / 'interactions.csv'}: no column 'timestamp' for timestamp; "
        "available columns: uid, movie, when, stars, headline "
        "(map one with --column timestamp=COLUMN)"
    )


def test_unknown_canonical_name_in_mapping() -> None:
    with pytest.raises(UserError, match=r"unknown canonical column\(s\) in --column: userid;"):
        get_reader("csv")(FIXTURES / "log.tsv", ReadOptions(columns={"userid": "user"}))


def test_bad_timestamp_is_located_with_its_value(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,item_id,timestamp,rating\na,x,100,5\nb,y,2021-01-01,4\nc,z,300,good\n")
    with pytest.raises(DataError) as info:
        get_reader("csv")(path, ReadOptions())
    assert str(info.value) == (
        f"{path}:3: timestamp is not a number of seconds: '2021-01-01' (see --time-unit)"
    )
    raw = get_reader("csv")(path, ReadOptions(lenient=True))
    assert raw.interactions["user_id"].to_list() == ["a"]
    assert raw.report.as_dict()["by_reason"] == {
        "log.csv: timestamp is not a number of seconds": 1,
        "log.csv: rating is not a number": 1,
    }


def test_ragged_and_non_utf8_rows_are_located(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"user_id,item_id,timestamp\na,x,1\nb,y\nc,\xffz,3\nd,w,4\n")
    with pytest.raises(DataError, match=r"log\.csv:3: expected 3 fields, got 2$"):
        get_reader("csv")(path, ReadOptions())
    raw = get_reader("csv")(path, ReadOptions(lenient=True))
    assert raw.interactions["user_id"].to_list() == ["a", "d"]
    assert raw.report.examples == {
        "log.csv: expected 3 fields, got 2": f"{path}:3",
        "log.csv: not valid UTF-8 (byte 2)": f"{path}:4",
    }


def test_unsupported_suffix_and_empty_file(tmp_path: Path) -> None:
    (tmp_path / "log.xlsx").write_text("x")
    with pytest.raises(UserError, match=r"unsupported table type; use \.csv, \.tsv"):
        get_reader("csv")(tmp_path / "log.xlsx", ReadOptions())
    (tmp_path / "log.csv").write_text("")
    with pytest.raises(DataError, match=r"log\.csv: file is empty$"):
        get_reader("csv")(tmp_path / "log.csv", ReadOptions())


def test_folder_with_two_interaction_tables_is_ambiguous(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "folder" / "interactions.csv", tmp_path / "interactions.csv")
    shutil.copy(FIXTURES / "folder" / "interactions.csv", tmp_path / "interactions.tsv")
    with pytest.raises(
        UserError, match=r"several interactions tables \(interactions\.csv, interactions\.tsv\)"
    ):
        get_reader("csv")(tmp_path, ReadOptions(columns=MAPPING, time_unit="iso"))
