"""Google Local reader: hand-made fixtures, file location, and the real South Dakota sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilerec.data.prepare import PrepareConfig, prepare
from profilerec.data.readers import ReadOptions, get_reader
from profilerec.data.readers.google_local import locate
from profilerec.errors import UserError

FIXTURE = Path(__file__).parent / "fixtures" / "google_local"
SOUTH_DAKOTA = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "google_local_south_dakota_sample"
)


def test_reviews_keep_ids_verbatim_and_times_in_ms() -> None:
    raw = get_reader("google_local")(FIXTURE, ReadOptions())
    assert raw.interactions.rows() == [
        ("101463350189962023774", "0xA:0x1", 1627750414677, 5.0, "", "Best maple syrup."),
        ("101463350189962023774", "0xA:0x2", 1627836814677, 4.0, "", ""),  # text null
        ("1.0356335351911816e+20", "0xA:0x1", 1600000000000, 3.0, "", "Fine"),
    ]
    assert [p.name for p in raw.sources] == ["review-Vermont.json", "meta-Vermont.json"]


def test_business_meta_maps_to_items() -> None:
    raw = get_reader("google_local")(FIXTURE, ReadOptions())
    items = {row["item_id"]: row for row in raw.items.to_dicts()}
    assert sorted(items) == ["0xA:0x1", "0xA:0x2"]  # 0xA:0x9 has no review
    shack = items["0xA:0x1"]
    assert shack["title"] == "Sugar Shack"  # the business name, not a reviewer's
    assert shack["categories"] == ["Farm", "Gift shop"]
    assert shack["description"] == "Family sugarhouse."
    assert shack["price"] is None  # "$$" is a price level, kept in details
    assert json.loads(shack["details"]) == {
        "address": "Sugar Shack, 1 Main St, Stowe, VT 05672",
        "avg_rating": 4.8,
        "num_of_reviews": 120,
        "price": "$$",
    }
    assert json.loads(items["0xA:0x2"]["details"]) == {"avg_rating": 4.1, "num_of_reviews": 9}


def test_numeric_user_ids_keep_their_text(tmp_path: Path) -> None:
    (tmp_path / "review-X.json").write_text(
        '{"user_id": 1.0356335351911816e+20, "time": 1, "gmap_id": "g"}\n'
        '{"user_id": 12345, "time": 2, "gmap_id": "g"}\n'
    )
    raw = get_reader("google_local")(tmp_path / "review-X.json", ReadOptions())
    assert raw.interactions["user_id"].to_list() == ["1.0356335351911816e+20", "12345"]


@pytest.mark.parametrize(
    ("reviews", "meta"),
    [
        ("review-New_York.json.gz", "meta-New_York.json.gz"),
        ("review-New_York_10.json.gz", "meta-New_York.json.gz"),
        ("review-South_Dakota.sample.json", "meta-South_Dakota.json"),
    ],
)
def test_meta_file_is_found_by_state(tmp_path: Path, reviews: str, meta: str) -> None:
    for name in (reviews, meta, "meta-Ohio.json"):
        (tmp_path / name).write_text("{}\n")
    assert locate(tmp_path / reviews) == (tmp_path / reviews, tmp_path / meta)


def test_unmatched_state_with_several_metas_is_an_error(tmp_path: Path) -> None:
    for name in ("review-Texas.json", "meta-Ohio.json", "meta-Utah.json"):
        (tmp_path / name).write_text("{}\n")
    with pytest.raises(UserError, match="cannot tell which meta file"):
        locate(tmp_path / "review-Texas.json")


@pytest.mark.integration
@pytest.mark.skipif(not SOUTH_DAKOTA.is_dir(), reason=f"real data absent: {SOUTH_DAKOTA}")
def test_real_south_dakota_sample_read_counts() -> None:
    raw = get_reader("google_local")(SOUTH_DAKOTA, ReadOptions())
    inter = raw.interactions
    # PROVENANCE figures: 10,000 reviews, 6,290 users, 963 businesses, all with meta.
    assert inter.height == 10_000
    assert inter["user_id"].n_unique() == 6290
    assert inter["item_id"].n_unique() == 963
    assert raw.items.height == 963
    assert inter.row(0)[:4] == (
        "1.0356335351911816e+20", "0x532af45db8f30779:0xd9be9359f1e56178", 1516122675780, 5.0,
    )  # fmt: skip
    assert raw.report.total == 0


@pytest.mark.integration
@pytest.mark.skipif(not SOUTH_DAKOTA.is_dir(), reason=f"real data absent: {SOUTH_DAKOTA}")
def test_real_south_dakota_sample_prepare_without_core(tmp_path: Path) -> None:
    manifest = prepare(SOUTH_DAKOTA, tmp_path, PrepareConfig(format="google_local", k_core=0))
    counts = manifest["counts"]
    assert counts["interactions_read"] == 10_000
    assert counts["duplicates_collapsed"] == 151  # PROVENANCE: 151 repeated (user, business)
    assert counts["interactions"] == 9849
    assert counts["users"] == 6290
    assert counts["items"] == 963
    assert counts["items_with_meta"] == 963
    assert counts["items_without_meta"] == 0
