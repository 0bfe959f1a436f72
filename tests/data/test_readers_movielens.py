"""MovieLens reader on hand-made ml-100k, ml-1m and ml-latest layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilerec.data.prepare import PrepareConfig, prepare
from profilerec.data.readers import RawData, ReadOptions, get_reader
from profilerec.errors import DataError, UserError

FIXTURES = Path(__file__).parent / "fixtures" / "movielens"


def items_by_id(raw: RawData) -> dict[str, dict]:
    return {row["item_id"]: row for row in raw.items.to_dicts()}


def test_ml_100k_ratings_and_genre_flags() -> None:
    raw = get_reader("movielens")(FIXTURES / "ml-100k", ReadOptions())
    assert raw.interactions.select("user_id", "item_id", "timestamp", "rating").rows() == [
        ("1", "10", 881250949000, 4.0),
        ("1", "20", 881250950000, 2.0),
        ("2", "10", 881250951000, 5.0),
    ]
    items = items_by_id(raw)
    # Flags 3, 4, 5 set: Animation, Children's, Comedy in u.genre order.
    assert items["10"]["title"] == "Toy Story (1995)"
    assert items["10"]["categories"] == ["Animation", "Children's", "Comedy"]
    assert json.loads(items["10"]["details"]) == {
        "imdb_url": "http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)",
        "release_date": "01-Jan-1995",
    }
    assert items["20"]["title"] == "Café Society (1995)"  # latin-1 byte 0xE9
    assert items["20"]["categories"] == ["Drama"]
    assert [p.name for p in raw.sources] == ["u.data", "u.item"]


def test_ml_100k_uses_u_genre_when_present(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("1\t5\t3\t100\n")
    (tmp_path / "u.item").write_text("5|Film|||url|1|0|1\n")
    (tmp_path / "u.genre").write_text("Zeta|0\nAlpha|1\nBeta|2\n")
    raw = get_reader("movielens")(tmp_path, ReadOptions())
    assert raw.items["categories"].to_list() == [["Zeta", "Beta"]]


def test_ml_1m_from_ratings_file_path() -> None:
    raw = get_reader("movielens")(FIXTURES / "ml-1m" / "ratings.dat", ReadOptions())
    assert raw.interactions.select("user_id", "item_id", "timestamp", "rating").rows() == [
        ("1", "1193", 978300760000, 5.0),
        ("1", "661", 978302109000, 3.0),
        ("2", "1193", 978298413000, 4.0),
    ]
    items = items_by_id(raw)
    assert items["661"]["title"] == "James and the Giant Peach (1996)"
    assert items["661"]["categories"] == ["Animation", "Children's", "Musical"]
    assert items["3"]["title"] == "Ménage (1986)"  # latin-1 byte 0xE9


def test_ml_latest_csv_layout(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,11,4.5,964982703\n1,12,3.0,964981247\n"
    )
    (tmp_path / "movies.csv").write_text(
        "movieId,title,genres\n"
        '11,"American President, The (1995)",Comedy|Drama|Romance\n'
        "12,Unknown Film (2018),(no genres listed)\n"
    )
    raw = get_reader("movielens")(tmp_path, ReadOptions())
    assert raw.interactions.select("user_id", "item_id", "timestamp", "rating").rows() == [
        ("1", "11", 964982703000, 4.5),
        ("1", "12", 964981247000, 3.0),
    ]
    items = items_by_id(raw)
    assert items["11"]["title"] == "American President, The (1995)"
    assert items["11"]["categories"] == ["Comedy", "Drama", "Romance"]
    assert items["12"]["categories"] == []


def test_not_a_movielens_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(UserError, match=r"looked for u\.data, ratings\.dat, ratings\.csv"):
        get_reader("movielens")(tmp_path, ReadOptions())


def test_short_rating_line_is_located_or_skipped(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("1\t5\t3\t100\n1\t6\t4\n2\t5\tx\t7\n")
    with pytest.raises(DataError) as info:
        get_reader("movielens")(tmp_path, ReadOptions())
    shape = "expected 4 tab-separated fields (user, item, rating, time), got 3"
    assert str(info.value) == f"{tmp_path / 'u.data'}:2: {shape}"
    raw = get_reader("movielens")(tmp_path, ReadOptions(lenient=True))
    assert raw.interactions["item_id"].to_list() == ["5"]
    assert raw.report.as_dict()["total"] == 2
    assert raw.report.examples == {
        f"u.data: {shape}": f"{tmp_path / 'u.data'}:2",
        "u.data: rating or timestamp is not a number": f"{tmp_path / 'u.data'}:3",
    }


def test_prepare_ml_1m_end_to_end(tmp_path: Path) -> None:
    manifest = prepare(FIXTURES / "ml-1m", tmp_path, PrepareConfig(format="movielens", k_core=0))
    counts = manifest["counts"]
    # Movie 3 is in movies.dat but never rated: not in the catalogue.
    assert (counts["interactions"], counts["users"], counts["items"]) == (3, 2, 2)
    assert counts["items_with_meta"] == 2
