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
        {"k_core": 0, "split": SplitConfig(min_history=0, max_history=3)},
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


def test_auto_picks_streaming_above_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from profilerec.data import prepare as prepare_module

    path = messy_reviews(tmp_path)
    monkeypatch.setattr(prepare_module, "STREAMING_ABOVE", path.stat().st_size - 1)
    manifest = prepare(path, tmp_path / "o", PrepareConfig(k_core=2, memory_limit="256MB"))
    assert manifest["engine"] == "streaming"
    monkeypatch.setattr(prepare_module, "STREAMING_ABOVE", path.stat().st_size)
    assert choose_engine(path, PrepareConfig()) == "memory"


def test_progress_names_each_phase_and_k_core_round(tmp_path: Path) -> None:
    phases: list[str] = []
    config = PrepareConfig(engine="streaming", k_core=3, memory_limit="256MB", threads=1)
    prepare(messy_reviews(tmp_path), tmp_path / "o", config, phases.append)
    assert phases[0] == "reading (streaming)"
    rounds = [p for p in phases if p.startswith("k-core round")]
    assert len(rounds) >= 2, phases  # the cascade needs more than one pass
    assert phases.index("writing interactions") < phases.index("building examples")
    seen: list[str] = []
    prepare(tmp_path / "Cat.jsonl", tmp_path / "m", PrepareConfig(engine="memory"), seen.append)
    assert seen == ["reading", "filtering and splitting", "writing"]


def test_memory_limit_is_applied_and_a_too_small_one_reported(tmp_path: Path) -> None:
    from profilerec.data.outofcore import connect

    con = connect("300MB", 1, tmp_path / "spill")
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "286.1 MiB"
    con.close()
    config = PrepareConfig(engine="streaming", k_core=3, memory_limit="1MB", threads=1)
    with pytest.raises(UserError, match="ran out of memory or disk under --memory-limit 1MB"):
        prepare(messy_reviews(tmp_path), tmp_path / "o", config)
    assert not (tmp_path / "o").exists()


def test_line_loop_chunks_are_the_whole_file_in_order(tmp_path: Path) -> None:
    from profilerec.data.io import SkipReport
    from profilerec.data.outofcore import write_chunks
    from profilerec.data.readers.amazon2023 import _read_reviews_loop, review_chunks

    path = messy_reviews(tmp_path)
    whole = _read_reviews_loop(path, SkipReport(lenient=False))
    chunks = list(review_chunks(path, SkipReport(lenient=False), rows=7))
    assert max(c.height for c in chunks) == 7 and len(chunks) == -(-whole.height // 7)
    write_chunks(iter(chunks), tmp_path / "raw.parquet", whole.clear())
    written = pl.read_parquet(tmp_path / "raw.parquet")
    assert written["_row"].to_list() == list(range(whole.height))
    assert written.drop("_row").equals(whole)


def test_folder_and_gzip_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from profilerec.data import prepare as prepare_module

    plain = messy_reviews(tmp_path)
    packed = tmp_path / "Cat.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    monkeypatch.setattr(prepare_module, "STREAMING_ABOVE", packed.stat().st_size * 3)
    assert choose_engine(packed, PrepareConfig()) == "streaming"  # counted as 4x its size
    a, b, ma, mb = both(tmp_path, tmp_path, k_core=2)  # the folder holding both files
    assert mb["engine"] == "streaming" and ma["counts"] == mb["counts"]
    assert pl.read_parquet(a / "examples.parquet").equals(pl.read_parquet(b / "examples.parquet"))


def test_no_meta_file_same_warning_and_placeholders(tmp_path: Path) -> None:
    path = messy_reviews(tmp_path)
    (tmp_path / "meta_Cat.jsonl").unlink()
    a, b, ma, mb = both(tmp_path, path, k_core=2)
    assert ma["warnings"] == mb["warnings"] and any("no item metadata" in w for w in mb["warnings"])
    assert pl.read_parquet(a / "items.parquet").equals(pl.read_parquet(b / "items.parquet"))
    assert mb["counts"]["items_with_meta"] == 0


def test_line_blocks_cover_the_file_at_line_ends(tmp_path: Path) -> None:
    from profilerec.data.outofcore import line_blocks

    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 22}\n\n{"a": 333}')  # no final newline
    blocks = list(line_blocks(path, size=5))
    assert b"".join(blocks) == path.read_bytes()
    assert all(b.endswith(b"\n") for b in blocks[:-1]) and blocks[-1] == b'{"a": 333}'
