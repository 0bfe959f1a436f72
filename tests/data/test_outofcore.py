"""The streaming (out-of-core) engine writes exactly what the in-memory engine writes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

from profilerec.data.prepare import PrepareConfig, choose_engine, prepare
from profilerec.data.splits import SplitConfig
from profilerec.errors import UserError

pytest.importorskip("duckdb")

T0 = 1_600_000_000_000


def messy_reviews(folder: Path, seed: int = 0) -> Path:
    """Duplicates (re-reviews and exact repeats), equal timestamps, a k-core cascade,
    items without meta, and shuffled lines."""
    rng = random.Random(seed)
    rows = []
    for u in range(60):
        for k in range(rng.randint(1, 12)):
            item = f"i{int(rng.random() ** 2 * 40)}"
            ts = T0 + rng.randint(0, 50) * 1000  # few distinct times: many ties
            rows.append(
                {
                    "user_id": f"u{u}",
                    "parent_asin": item,
                    "timestamp": ts,
                    "rating": float(rng.randint(1, 5)),
                    "title": f"t{k}",
                    "text": f"x{u}",
                }
            )
    rows += [dict(r, timestamp=r["timestamp"] + 5000, text="again") for r in rows[:40:3]]
    rows += rows[5:25:4]  # exact repeats: the first read wins
    # A cascade: user c0 has 5 items, one of which (rare) only c0 and c1 have; dropping it
    # drops c0 below 5, which drops the other items' counts.
    rows += [{"user_id": "c0", "parent_asin": f"i{k}", "timestamp": T0 + k} for k in range(4)]
    rows += [{"user_id": "c0", "parent_asin": "rare", "timestamp": T0 + 9}]
    rng.shuffle(rows)
    path = folder / "Cat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "meta_Cat.jsonl").write_text(
        "".join(
            json.dumps({"parent_asin": f"i{k}", "title": f"item {k}"}) + "\n" for k in range(30)
        )
        + json.dumps({"parent_asin": "i3", "title": "dup"})
        + "\n"
    )
    return path


def both(tmp_path: Path, source: Path, **config: object) -> tuple[Path, Path, dict, dict]:  # type: ignore[type-arg]
    a, b = tmp_path / "memory", tmp_path / "streaming"
    ma = prepare(source, a, PrepareConfig(engine="memory", **config))  # type: ignore[arg-type]
    mb = prepare(
        source, b, PrepareConfig(engine="streaming", memory_limit="256MB", threads=1, **config)
    )  # type: ignore[arg-type]
    return a, b, ma, mb


@pytest.mark.parametrize(
    "config",
    [
        {"k_core": 3},
        {"k_core": 0, "split": SplitConfig(max_history=2)},
        {
            "k_core": 2,
            "missing_meta": "drop",
            "split": SplitConfig(kind="global_time", max_history=0),
        },
        {"k_core": 2, "split": SplitConfig(kind="user_disjoint", min_history=2, seed=3)},
    ],
)
def test_streaming_equals_memory(tmp_path: Path, config: dict) -> None:  # type: ignore[type-arg]
    a, b, ma, mb = both(tmp_path, messy_reviews(tmp_path), **config)
    for name in ("items.parquet", "interactions.parquet", "examples.parquet"):
        left, right = pl.read_parquet(a / name), pl.read_parquet(b / name)
        assert left.schema == right.schema, name
        assert left.equals(right), name
    assert ma["counts"] == mb["counts"]
    assert ma["counts"]["duplicates_collapsed"] > 0 and ma["counts"]["meta_duplicates"] == 1
    assert ma["warnings"] == mb["warnings"]
    assert (ma["engine"], mb["engine"]) == ("memory", "streaming")
    assert not (b / ".work").exists()


def test_streaming_bad_line_is_located_and_lenient_counts(tmp_path: Path) -> None:
    path = messy_reviews(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(6, '{"user_id": "u1", "parent_asin": \n')
    path.write_text("".join(lines))
    with pytest.raises(UserError, match=r"Cat\.jsonl:7: malformed JSON"):
        prepare(path, tmp_path / "s", PrepareConfig(engine="streaming", k_core=0))
    a, b, ma, mb = both(tmp_path, path, k_core=0, read=_lenient())
    assert mb["skipped"]["total"] == 1 and ma["skipped"] == mb["skipped"]
    assert pl.read_parquet(a / "examples.parquet").equals(pl.read_parquet(b / "examples.parquet"))


def _lenient():  # type: ignore[no-untyped-def]
    from profilerec.data.readers import ReadOptions

    return ReadOptions(lenient=True)


def test_engine_choice_and_refusals(tmp_path: Path) -> None:
    path = messy_reviews(tmp_path)
    assert choose_engine(path, PrepareConfig()) == "memory"  # small file under auto
    with pytest.raises(UserError, match="--engine must be one of"):
        choose_engine(path, PrepareConfig(engine="gpu"))
    with pytest.raises(UserError, match="Amazon 2023 reviews JSONL"):
        choose_engine(path, PrepareConfig(engine="streaming", format="movielens"))
    with pytest.raises(UserError, match="is not a size"):
        prepare(path, tmp_path / "o", PrepareConfig(engine="streaming", memory_limit="lots"))
