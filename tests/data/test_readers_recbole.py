"""RecBole atomic-file reader: typed headers, item field mapping, column overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilerec.data.readers import ReadOptions, get_reader
from profilerec.errors import DataError, UserError

FIXTURE = Path(__file__).parent / "fixtures" / "recbole" / "tiny"


def test_inter_and_item_files() -> None:
    raw = get_reader("recbole")(FIXTURE, ReadOptions())
    # timestamp:float seconds -> ms, fractional seconds kept.
    assert raw.interactions.select("user_id", "item_id", "timestamp", "rating").rows() == [
        ("1", "1193", 978300760000, 5.0),
        ("1", "661", 978302109500, 3.0),
        ("2", "1193", 978298413000, 4.0),
    ]
    items = {row["item_id"]: row for row in raw.items.to_dicts()}
    assert items["1193"]["title"] == "One Flew Over the Cuckoo's Nest"  # movie_title:token_seq
    assert items["661"]["categories"] == ["Animation", "Children's", "Musical"]  # class:token_seq
    assert json.loads(items["661"]["details"]) == {"release_year": "1996"}
    assert [p.name for p in raw.sources] == ["tiny.inter", "tiny.item"]


def test_amazon_style_item_fields(tmp_path: Path) -> None:
    (tmp_path / "b.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\nu\ti\t5.0\t10\n"
    )
    (tmp_path / "b.item").write_text(
        "item_id:token\ttitle:token\tsales_rank:float\tcategories:token_seq\t"
        "price:float\tbrand:token\n"
        "i\tRose Oil\t1234\t'Beauty', 'Skin Care'\t12.5\tAcme\n"
    )
    raw = get_reader("recbole")(tmp_path / "b.inter", ReadOptions())
    (item,) = raw.items.to_dicts()
    assert item["title"] == "Rose Oil"
    assert item["categories"] == ["Beauty", "Skin Care"]
    assert item["store"] == "Acme"
    assert item["price"] == 12.5
    assert json.loads(item["details"]) == {"sales_rank": "1234"}


def test_column_mapping_for_other_field_names(tmp_path: Path) -> None:
    (tmp_path / "yelp.inter").write_text(
        "review_id:token\tuser_id:token\tbusiness_id:token\tstars:float\tdate:float\n"
        "r1\tu1\tb1\t4\t1500000000\n"
    )
    (tmp_path / "yelp.item").write_text(
        "business_id:token\tname:token_seq\tcategories:token_seq\nb1\tPizza Place\tPizza, Italian\n"
    )
    options = ReadOptions(
        columns={"item_id": "business_id", "rating": "stars", "timestamp": "date"}
    )
    raw = get_reader("recbole")(tmp_path, options)
    assert raw.interactions.select("user_id", "item_id", "timestamp", "rating").rows() == [
        ("u1", "b1", 1500000000000, 4.0)
    ]
    assert raw.items.select("item_id", "title", "categories").rows() == [
        ("b1", "Pizza Place", ["Pizza", "Italian"])
    ]


def test_millisecond_unit(tmp_path: Path) -> None:
    (tmp_path / "a.inter").write_text("user_id:token\titem_id:token\ttimestamp:float\nu\ti\t1500\n")
    raw = get_reader("recbole")(tmp_path, ReadOptions(time_unit="ms"))
    assert raw.interactions["timestamp"].to_list() == [1500]
    assert raw.interactions["rating"].to_list() == [None]
    assert raw.items.height == 0


def test_missing_field_names_the_fields_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "y.inter").write_text("user_id:token\tbusiness_id:token\tdate:float\nu\tb\t1\n")
    with pytest.raises(UserError) as info:
        get_reader("recbole")(tmp_path, ReadOptions())
    assert str(info.value) == (
        f"{tmp_path / 'y.inter'}: no 'item_id' field for item_id (fields: user_id, business_id, "
        "date); map one with --column item_id=FIELD"
    )


def test_bad_rows_are_located(tmp_path: Path) -> None:
    (tmp_path / "a.inter").write_text(
        "user_id:token\titem_id:token\ttimestamp:float\nu\ti\t1\nu\ti2\nu\ti3\tsoon\n"
    )
    with pytest.raises(DataError, match=r"a\.inter:3: expected 3 tab-separated fields, got 2$"):
        get_reader("recbole")(tmp_path, ReadOptions())
    raw = get_reader("recbole")(tmp_path, ReadOptions(lenient=True))
    assert raw.interactions["item_id"].to_list() == ["i"]
    assert raw.report.as_dict()["by_reason"] == {
        "a.inter: expected 3 tab-separated fields, got 2": 1,
        "a.inter: timestamp or rating is not a number": 1,
    }


def test_iso_time_unit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.inter").write_text("user_id:token\titem_id:token\ttimestamp:float\nu\ti\t1\n")
    with pytest.raises(UserError, match="--time-unit s or ms"):
        get_reader("recbole")(tmp_path, ReadOptions(time_unit="iso"))
