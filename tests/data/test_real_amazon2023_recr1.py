"""The Amazon 2023 reader on the real Rec-R1 All_Beauty set, whose meta file is partial
(``meta_All_Beauty.partial.jsonl``: 438 titles for 3,208 reviewed items)."""

from __future__ import annotations

from pathlib import Path

import pytest

from profilerec.data.prepare import PrepareConfig, prepare
from profilerec.data.readers import ReadOptions, get_reader

RECR1 = Path(__file__).resolve().parents[3] / "shared" / "data" / "amazon2023_all_beauty_recr1"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not RECR1.is_dir(), reason=f"real data absent: {RECR1}"),
]


def test_folder_source_finds_the_partial_meta() -> None:
    raw = get_reader("amazon2023")(RECR1, ReadOptions())
    assert [p.name for p in raw.sources] == ["All_Beauty.jsonl", "meta_All_Beauty.partial.jsonl"]
    inter = raw.interactions
    # PROVENANCE figures: 3,534 reviews, 675 users, 3,208 items, 438 meta records.
    assert inter.height == 3534
    assert inter["user_id"].n_unique() == 675
    assert inter["item_id"].n_unique() == 3208
    assert raw.items.height == 438


def test_prepare_keeps_or_drops_items_without_meta(tmp_path: Path) -> None:
    keep = prepare(RECR1, tmp_path / "keep", PrepareConfig(format="amazon2023", k_core=0))
    counts = keep["counts"]
    assert counts["duplicates_collapsed"] == 14  # PROVENANCE: 14 repeated (user, item) pairs
    assert (counts["interactions"], counts["users"], counts["items"]) == (3520, 675, 3208)
    assert counts["items_without_meta"] == 2770  # 3,208 - 438
    assert counts["items_with_meta"] == 438

    config = PrepareConfig(format="amazon2023", k_core=0, missing_meta="drop")
    counts = prepare(RECR1, tmp_path / "drop", config)["counts"]
    assert (counts["interactions"], counts["users"], counts["items"]) == (561, 317, 438)
    assert counts["items_with_meta"] == 438
