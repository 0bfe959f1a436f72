"""Amazon 2018 / 2014 reader: hand-made fixtures, file location, and the real Gift Cards 5-core."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from profilerec.data.prepare import PrepareConfig, prepare
from profilerec.data.readers import ReadOptions, get_reader
from profilerec.data.readers.amazon2018 import locate
from profilerec.errors import UserError

FIXTURES = Path(__file__).parent / "fixtures"
TOYS = FIXTURES / "amazon2018"
GIFT_CARDS = Path(__file__).resolve().parents[3] / "shared" / "data" / "amazon2018_gift_cards_5core"


def items_by_id(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["item_id"]: row for row in frame.to_dicts()}


def test_reviews_become_canonical_interactions() -> None:
    raw = get_reader("amazon2018")(TOYS / "Tiny_Toys_5.json", ReadOptions())
    inter = raw.interactions
    # Five non-blank lines; unixReviewTime is in seconds, canonical time in ms.
    assert inter.rows() == [
        ("U1", "A1", 1514851200000, 5.0, "Five Stars", "Great kite."),
        ("U1", "A2", 1514937600000, 3.0, "Meh", "OK puzzle"),
        ("U2", "A1", 1515024000000, 4.0, "Good", "Flies well"),
        ("U1", "A1", 1515110400000, 1.0, "Changed my mind", "Broke on day two"),
        ("U2", "A3", 1515196800000, 2.0, "", ""),
    ]
    assert [p.name for p in raw.sources] == ["Tiny_Toys_5.json", "meta_Tiny_Toys.json"]
    assert raw.report.total == 0


def test_meta_fields_map_to_item_columns() -> None:
    raw = get_reader("amazon2018")(TOYS / "Tiny_Toys_5.json", ReadOptions())
    items = items_by_id(raw.items)
    # A9 is never reviewed and A3 has no meta record: neither is an item row here.
    assert sorted(items) == ["A1", "A2"]
    kite = items["A1"]
    assert kite["title"] == "Red Kite"
    assert kite["description"] == "A red kite.\nEasy to fly."
    assert kite["features"] == ["Nylon", "30 m line"]
    assert kite["categories"] == ["Toys & Games", "Kites"]  # repeated top level collapsed
    assert kite["store"] == "SkyCo"
    assert kite["price"] == 12.99
    # Keys tidied, the redundant ASIN entry dropped.
    assert json.loads(kite["details"]) == {"Product Dimensions": "30 x 20 cm"}
    puzzle = items["A2"]
    assert puzzle["title"] == "Puzzle"  # the first of two A2 records wins
    assert puzzle["price"] is None  # "" is no price
    assert json.loads(puzzle["details"]) == {"tech1": "Pieces: 500"}


def test_2014_python_literal_meta_and_nested_categories() -> None:
    raw = get_reader("amazon2014")(FIXTURES / "amazon2014", ReadOptions())
    assert raw.interactions.select("user_id", "item_id", "timestamp").rows() == [
        ("R1", "B1", 1252800000000),
        ("R1", "B2", 1252886400000),
    ]
    items = items_by_id(raw.items)
    assert items["B1"]["title"] == "Grandma's Garden"
    assert items["B1"]["description"] == "A café story."  # u'caf\xe9' literal
    assert items["B1"]["categories"] == ["Books", "Literature", "Classics"]
    assert items["B1"]["price"] == 7.5
    assert items["B2"]["store"] == "Penguin"
    assert raw.report.total == 0


def test_gzip_reviews_read_like_plain(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "Tiny_Toys_5.json.gz", "wb") as fh:
        fh.write((TOYS / "Tiny_Toys_5.json").read_bytes())
    shutil.copy(TOYS / "meta_Tiny_Toys.json", tmp_path)
    plain = get_reader("amazon2018")(TOYS / "Tiny_Toys_5.json", ReadOptions())
    packed = get_reader("amazon2018")(tmp_path / "Tiny_Toys_5.json.gz", ReadOptions())
    assert packed.interactions.equals(plain.interactions)
    assert packed.items.equals(plain.items)


@pytest.mark.parametrize(
    ("reviews", "meta"),
    [
        ("Gift_Cards_5.json", "meta_Gift_Cards.json"),
        ("Gift_Cards.json.gz", "meta_Gift_Cards.json.gz"),
        ("reviews_Books_5.json.gz", "meta_Books.json.gz"),
        ("All_Beauty_5.jsonl", "meta_All_Beauty.json"),
    ],
)
def test_meta_file_is_found_beside_reviews(tmp_path: Path, reviews: str, meta: str) -> None:
    (tmp_path / reviews).write_text("{}\n")
    (tmp_path / meta).write_text("{}\n")
    assert locate(tmp_path / reviews) == (tmp_path / reviews, tmp_path / meta)
    assert locate(tmp_path) == (tmp_path / reviews, tmp_path / meta)


def test_folder_ignores_other_json_when_a_pair_exists(tmp_path: Path) -> None:
    for name in ("Gift_Cards_5.json", "meta_Gift_Cards.json", "stats.json"):
        (tmp_path / name).write_text("{}\n")
    assert locate(tmp_path) == (tmp_path / "Gift_Cards_5.json", tmp_path / "meta_Gift_Cards.json")


def test_folder_with_two_unpaired_reviews_files_is_ambiguous(tmp_path: Path) -> None:
    for name in ("A_5.json", "B_5.json"):
        (tmp_path / name).write_text("{}\n")
    with pytest.raises(UserError, match=r"several reviews files \(A_5.json, B_5.json\)"):
        locate(tmp_path)


def test_reviews_without_meta_read_with_empty_items(tmp_path: Path) -> None:
    shutil.copy(TOYS / "Tiny_Toys_5.json", tmp_path / "Other_5.json")
    raw = get_reader("amazon2018")(tmp_path / "Other_5.json", ReadOptions())
    assert raw.interactions.height == 5
    assert raw.items.height == 0
    assert [p.name for p in raw.sources] == ["Other_5.json"]


def test_prepare_collapses_repeat_review_and_marks_item_without_meta(tmp_path: Path) -> None:
    manifest = prepare(
        TOYS / "Tiny_Toys_5.json", tmp_path / "out", PrepareConfig(format="amazon2018", k_core=0)
    )
    counts = manifest["counts"]
    # U1 reviewed A1 twice: the earlier review (rating 5) is kept.
    assert counts["interactions_read"] == 5
    assert counts["duplicates_collapsed"] == 1
    assert counts["items_without_meta"] == 1  # A3
    assert (counts["users"], counts["items"], counts["items_with_meta"]) == (2, 3, 2)
    inter = pl.read_parquet(tmp_path / "out" / "interactions.parquet")
    kept = inter.filter((pl.col("user_id") == "U1") & (pl.col("item_id") == "A1"))
    assert kept["rating"].to_list() == [5.0]


@pytest.mark.integration
@pytest.mark.skipif(not GIFT_CARDS.is_dir(), reason=f"real data absent: {GIFT_CARDS}")
def test_real_gift_cards_read_counts() -> None:
    raw = get_reader("amazon2018")(GIFT_CARDS / "Gift_Cards_5.json", ReadOptions())
    inter = raw.interactions
    # Published/PROVENANCE figures: 2,972 reviews, 458 users, 148 items, 7 repeated pairs.
    assert inter.height == 2972
    assert inter["user_id"].n_unique() == 458
    assert inter["item_id"].n_unique() == 148
    assert inter.height - inter.select("user_id", "item_id").unique().height == 7
    assert raw.items.height == 148  # every reviewed item has a meta record
    assert raw.items["title"].str.len_chars().min() > 0
    assert inter.row(0) == (
        "A31UBHTUUIFJUT", "B004LLIKVU", 1529193600000, 5.0, "Five Stars", "Another great gift.",
    )  # fmt: skip
    assert raw.report.total == 0


@pytest.mark.integration
@pytest.mark.skipif(not GIFT_CARDS.is_dir(), reason=f"real data absent: {GIFT_CARDS}")
def test_real_gift_cards_prepare_5core(tmp_path: Path) -> None:
    manifest = prepare(GIFT_CARDS, tmp_path, PrepareConfig(format="amazon2018", k_core=5))
    counts = manifest["counts"]
    assert counts["interactions_read"] == 2972
    assert counts["duplicates_collapsed"] == 7
    # Collapsing the 7 repeats pushes some users/items under 5: the core shrinks a little.
    assert counts["interactions"] == 2941
    assert counts["users"] == 453
    assert counts["items"] == 147
    assert counts["items_with_meta"] == 147
    assert counts["items_without_meta"] == 0
    assert manifest["skipped"]["total"] == 0
