"""The sanity pass of prepare: each suspicious input is a warning in the manifest, or an error."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from profilerec.data.prepare import PrepareConfig, prepare
from profilerec.data.splits import SplitConfig
from profilerec.errors import UserError

DAY_MS = 86_400_000
T0 = 1_600_000_000_000  # 2020-09 in ms


def reviews(
    folder: Path, rows: list[tuple[str, str, int, float]], meta: list[str] | None = None
) -> Path:
    """An amazon2023 reviews file (and meta file when ``meta`` lists item ids)."""
    path = folder / "Cat.jsonl"
    path.write_text(
        "".join(
            json.dumps({"user_id": u, "parent_asin": i, "timestamp": t, "rating": r}) + "\n"
            for u, i, t, r in rows
        )
    )
    if meta is not None:
        (folder / "meta_Cat.jsonl").write_text(
            "".join(
                json.dumps({"parent_asin": i, "title": f"t{n}"}) + "\n" for n, i in enumerate(meta)
            )
        )
    return path


def good_rows(t0: int = T0, step: int = DAY_MS) -> list[tuple[str, str, int, float]]:
    """Two users with four items each: every split gets examples."""
    return [(u, f"i{k}", t0 + k * step, 4.0) for u in ("u1", "u2") for k in range(4)]


def run(tmp_path: Path, path: Path, **config: object) -> dict:  # type: ignore[type-arg]
    cfg = PrepareConfig(k_core=0, **config)  # type: ignore[arg-type]
    return prepare(path, tmp_path / "out", cfg)


def test_clean_data_has_no_warnings(tmp_path: Path) -> None:
    items = [f"i{k}" for k in range(4)]
    manifest = run(tmp_path, reviews(tmp_path, good_rows(), meta=items))
    assert manifest["warnings"] == []
    assert manifest["counts"]["meta_duplicates"] == 0


def test_seconds_where_ms_expected_is_a_warning(tmp_path: Path) -> None:
    path = reviews(tmp_path, good_rows(t0=1_600_000_000, step=86_400), meta=["i0"])
    manifest = run(tmp_path, path)
    assert any("probably holds seconds" in w for w in manifest["warnings"])
    on_disk = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert on_disk["warnings"] == manifest["warnings"]


def test_negative_timestamps_are_a_warning(tmp_path: Path) -> None:
    rows = good_rows()
    rows[0] = ("u1", "i0", -5, 4.0)
    manifest = run(tmp_path, reviews(tmp_path, rows, meta=["i0"]))
    assert "1 interaction(s) have negative timestamps (before 1970)" in manifest["warnings"]


def test_future_timestamp_is_an_error(tmp_path: Path) -> None:
    rows = good_rows()
    rows[3] = ("u1", "i3", int(time.time() * 1000) + 30 * DAY_MS, 4.0)
    with pytest.raises(UserError, match=r"1 interaction\(s\) have timestamps in the future"):
        run(tmp_path, reviews(tmp_path, rows, meta=["i0"]))
    assert not (tmp_path / "out").exists()


def test_ratings_out_of_scale_are_a_warning(tmp_path: Path) -> None:
    rows = good_rows()
    rows[1] = ("u1", "i1", T0 + DAY_MS, 50.0)
    manifest = run(tmp_path, reviews(tmp_path, rows, meta=["i0"]))
    assert any("1 rating(s) outside the amazon2023 scale 1-5" in w for w in manifest["warnings"])


def test_duplicate_meta_records_are_counted(tmp_path: Path) -> None:
    path = reviews(tmp_path, good_rows(), meta=["i0", "i1", "i0", "i0"])
    manifest = run(tmp_path, path)
    assert manifest["counts"]["meta_duplicates"] == 2
    assert any("2 duplicate metadata record(s)" in w for w in manifest["warnings"])


def test_missing_meta_file_is_a_warning(tmp_path: Path) -> None:
    manifest = run(tmp_path, reviews(tmp_path, good_rows()))
    assert any("no item metadata was found" in w for w in manifest["warnings"])


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"k_core": -3}, "--k-core must be >= 0"),
        ({"missing_meta": "maybe"}, "--missing-meta must be"),
        ({"split": SplitConfig(min_history=-1)}, "--min-history and --max-history must be >= 0"),
        ({"split": SplitConfig(kind="random")}, "unknown split 'random'"),  # type: ignore[arg-type]
        ({"split": SplitConfig(kind="user_disjoint", valid_users=0.5, test_users=0.5)}, "below 1"),
        ({"split": SplitConfig(test_users=1.5)}, "--test-users must be a fraction"),
        ({"split": SplitConfig(kind="global_time", valid_cut=-1)}, "--valid-cut must be"),
    ],
)
def test_bad_flags_fail_before_reading(tmp_path: Path, config: dict, message: str) -> None:  # type: ignore[type-arg]
    missing = tmp_path / "nothing-here.jsonl"  # never read: the flags are checked first
    with pytest.raises(UserError, match=message):
        prepare(missing, tmp_path / "out", PrepareConfig(**config))  # type: ignore[arg-type]


def test_no_examples_is_an_error(tmp_path: Path) -> None:
    path = reviews(tmp_path, good_rows(), meta=["i0"])
    with pytest.raises(UserError, match="no examples: no user has --min-history 9"):
        run(tmp_path, path, split=SplitConfig(min_history=9))
    assert not (tmp_path / "out").exists()


def test_empty_split_is_a_warning(tmp_path: Path) -> None:
    path = reviews(tmp_path, good_rows(), meta=["i0"])
    split = SplitConfig(kind="user_disjoint", valid_users=0.0, test_users=0.5)
    manifest = run(tmp_path, path, split=split)
    assert any("the valid split is empty" in w for w in manifest["warnings"])
    manifest = run(tmp_path, path, split=SplitConfig(min_history=3))
    assert any("the valid split is empty" in w for w in manifest["warnings"])
    assert any("the train split is empty" in w for w in manifest["warnings"])
