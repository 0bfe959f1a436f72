"""The out-of-core ``prepare`` engine: bounded memory for files larger than RAM.

The reviews JSONL is parsed in blocks of whole lines by polars' JSON reader and appended
to Parquet (one pass, a row index that is the line order); DuckDB then runs dedupe, the
k-core loop, ordering, examples and the final wide join with ``memory_limit`` and
spilling to a temporary folder.
DuckDB is used for the relational part because it spills sorts, joins and aggregates to
disk under a hard memory limit; polars' streaming engine has no user-settable limit.
The results are identical to the in-memory path (tests/data/test_outofcore.py).

Scope: Amazon 2023 reviews JSONL (the large categories). The item metadata goes to
Parquet in chunks too; only the kept items' records come back into memory. The user list
(user-disjoint split) and the timestamps (global-time quantiles) are held in memory; they
are far smaller than the reviews.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from profilerec.data.filters import MissingMeta
from profilerec.data.io import SkipReport, open_binary
from profilerec.data.readers.amazon2023 import (
    FAST_SCHEMA,
    bad_keys,
    canonical_reviews,
    review_chunks,
)
from profilerec.data.readers.base import interactions_frame, items_frame
from profilerec.data.sanity import (
    FUTURE_SLACK_MS,
    RATING_SCALES,
    meta_counts_warnings,
    now_ms,
    stats_warnings,
)
from profilerec.data.schema import INTERACTIONS_SCHEMA
from profilerec.data.splits import SplitConfig, _cuts, user_disjoint_labels
from profilerec.errors import UserError

if TYPE_CHECKING:
    from profilerec.data.prepare_config import PrepareConfig

Progress = Callable[[str], None]
#: Bytes of JSONL parsed at a time (peak memory is a few times this).
BLOCK_BYTES = 128 * 1024**2


def connect(memory_limit: str, threads: int, spill: Path) -> Any:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    except duckdb.Error as exc:
        raise UserError(f"--memory-limit {memory_limit!r} is not a size like 4GB ({exc})") from None
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET temp_directory = '{spill}'")
    return con


def to_parquet(reviews: Path, work: Path, report: SkipReport, progress: Progress) -> Path:
    """Reviews JSONL -> ``raw.parquet`` with canonical columns and ``_row`` (line order).

    The normal case is one pass: blocks of whole lines, each parsed by polars' JSON reader
    and appended to the Parquet file. Not ``scan_ndjson``: it memory-maps the file, and the
    mapped pages count in the RSS (7.4 GiB at 20M reviews, 15 GiB of JSONL); blocks also
    read gzip without a decompressed copy. Only when a block fails or a required field is
    empty does the line loop run from the start, naming the bad line (or counting it with
    --lenient), like the in-memory reader.
    """
    raw = work / "raw.parquet"
    progress("reading (streaming)")
    empty = interactions_frame({"user_id": []})
    try:
        write_chunks(_parsed_blocks(reviews), raw, empty)
        n = pl.scan_parquet(raw).select(pl.len()).collect().item()
        bad = 0 if n else 1
    except Exception:  # any polars parse/decode error or an empty key: the loop locates it
        bad = 1
    if bad:  # the located-error path, written in chunks so memory stays bounded
        progress("reading (line by line: a record needs checking)")
        write_chunks(review_chunks(reviews, report), raw, empty)
    return raw


def _parsed_blocks(path: Path, size: int = BLOCK_BYTES) -> Iterator[pl.DataFrame]:
    for block in line_blocks(path, size):
        frame = pl.read_ndjson(io.BytesIO(block), schema=FAST_SCHEMA).select(canonical_reviews())
        if frame.select(bad_keys()).item():
            raise ValueError("a record lacks a key")
        yield frame


def line_blocks(path: Path, size: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The file (plain or gzip) in blocks of about ``size`` bytes that end at a newline."""
    with open_binary(path) as fh:
        rest = b""
        while block := fh.read(size):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest, block = block[cut:], block[:cut]
            if block.strip():
                yield block
        if rest.strip():
            yield rest


def write_chunks(chunks: Iterator[pl.DataFrame], path: Path, empty: pl.DataFrame) -> None:
    """Frames -> one Parquet file with a running ``_row`` (their order); ``empty`` if none."""
    import pyarrow.parquet as pq

    writer, offset = None, 0
    try:
        for chunk in chunks:
            table = chunk.with_row_index("_row", offset=offset).to_arrow()
            offset += chunk.height
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # nothing readable: an empty file with the columns
        empty.with_row_index("_row").write_parquet(path)


def interaction_stats(con: Any, fmt: str, now_ms: int, slack_ms: int) -> dict[str, Any]:
    """The numbers :func:`profilerec.data.sanity.stats_warnings` needs, computed in SQL."""
    low, high = RATING_SCALES.get(fmt, (float("-inf"), float("inf")))
    cut = now_ms + slack_ms
    n_future, n_negative, max_ts, n_out = con.execute(
        "SELECT count(*) FILTER (timestamp > ?), count(*) FILTER (timestamp < 0), max(timestamp),"
        " count(*) FILTER (rating < ? OR rating > ?) FROM raw",
        [cut, low, high],
    ).fetchall()[0]
    first_future = con.execute(
        "SELECT user_id, item_id, timestamp FROM raw WHERE timestamp > ? ORDER BY _row LIMIT 1",
        [cut],
    ).fetchall()
    first_rating = con.execute(
        "SELECT rating FROM raw WHERE rating < ? OR rating > ? ORDER BY _row LIMIT 1", [low, high]
    ).fetchall()
    return {
        "n_future": n_future,
        "first_future": first_future[0] if first_future else None,
        "n_negative": n_negative,
        "max_ts": max_ts,
        "n_out_of_scale": n_out,
        "first_out_of_scale": first_rating[0][0] if first_rating else None,
    }


def filter_keys(
    con: Any, policy: MissingMeta, k: int, source: str, progress: Progress
) -> tuple[int, int]:
    """Dedupe, missing-meta policy and iterative k-core into table ``kept``.

    Returns (interactions after dedupe, items without meta), as the in-memory filters do.
    """
    progress("collapsing duplicates")
    # Earliest (timestamp, line) per (user, item): the in-memory sort + unique(keep=first).
    con.execute(
        "CREATE TABLE kept AS SELECT user_id, item_id, min(timestamp) AS timestamp,"
        " min_by(_row, (timestamp, _row)) AS _row FROM raw GROUP BY user_id, item_id"
    )
    n_dedup = con.execute("SELECT count(*) FROM kept").fetchall()[0][0]
    n_missing, first = con.execute(
        "SELECT count(DISTINCT item_id), min_by(item_id, (timestamp, _row)) FROM kept"
        " WHERE item_id NOT IN (SELECT item_id FROM known)"
    ).fetchall()[0]
    if n_missing and policy == "error":
        n_rows = con.execute(
            "SELECT count(*) FROM kept WHERE item_id NOT IN (SELECT item_id FROM known)"
        ).fetchall()[0][0]
        raise UserError(
            f"{source}: {n_rows} interactions reference {n_missing} item(s) with no "
            f"metadata record (first: {first}); pass --missing-meta keep or drop"
        )
    if n_missing and policy == "drop":
        con.execute("DELETE FROM kept WHERE item_id NOT IN (SELECT item_id FROM known)")
    if k > 1:
        rounds = 0
        while True:
            rounds += 1
            before = con.execute("SELECT count(*) FROM kept").fetchall()[0][0]
            progress(f"k-core round {rounds}: {before:,} interactions")
            # Both counts on the same set, as the in-memory loop does.
            con.execute(
                "CREATE OR REPLACE TABLE kept AS SELECT * FROM kept WHERE"
                " user_id IN (SELECT user_id FROM kept GROUP BY user_id HAVING count(*) >= ?)"
                " AND item_id IN (SELECT item_id FROM kept GROUP BY item_id HAVING count(*) >= ?)",
                [k, k],
            )
            if con.execute("SELECT count(*) FROM kept").fetchall()[0][0] == before:
                break
    return n_dedup, n_missing


def write_examples(con: Any, split: SplitConfig, path: Path, progress: Progress) -> None:
    """Examples with the same positions, histories and splits as ``splits.make_examples``."""
    progress("building examples")
    con.execute(
        "CREATE TABLE seq AS SELECT user_id, item_id, timestamp, _row,"
        " (row_number() OVER w - 1)::INTEGER AS position,"
        " (count(*) OVER (PARTITION BY user_id))::INTEGER AS _n"
        " FROM kept WINDOW w AS (PARTITION BY user_id ORDER BY timestamp, _row)"
    )
    # Each example's history: the (at most max_history) items before the first position of
    # its timestamp, a window frame of fixed length (O(n * max_history), not O(n^2)).
    preceding = f"{int(split.max_history)}" if split.max_history else "UNBOUNDED"
    if split.kind == "leave_last_out":
        label = (
            "CASE WHEN position = _n - 1 THEN 'test' WHEN position = _n - 2 THEN 'valid'"
            " ELSE 'train' END"
        )
    elif split.kind == "global_time":
        ts = con.execute("SELECT timestamp FROM seq").fetchnumpy()["timestamp"]
        valid_cut, test_cut = _cuts(pl.Series(ts), split)
        label = (
            f"CASE WHEN timestamp >= {test_cut} THEN 'test' WHEN timestamp >= {valid_cut}"
            " THEN 'valid' ELSE 'train' END"
        )
    else:
        users = [u for (u,) in con.execute("SELECT DISTINCT user_id FROM seq").fetchall()]
        labels = user_disjoint_labels(users, split)
        frame = pl.DataFrame({"user_id": list(labels), "split": list(labels.values())})
        con.register("user_split", frame.to_arrow())
        label = "coalesce((SELECT split FROM user_split s WHERE s.user_id = x.user_id), 'train')"
    con.execute(
        f"""COPY (
        WITH w AS (
            SELECT *, list(item_id ORDER BY position) OVER (PARTITION BY user_id
                ORDER BY position ROWS BETWEEN {preceding} PRECEDING AND 1 PRECEDING) AS _before
            FROM seq),
        x AS (
            SELECT *, min(position) OVER t AS history_len,
                coalesce(first_value(_before) OVER t, []::VARCHAR[]) AS history
            FROM w WINDOW t AS (PARTITION BY user_id, timestamp ORDER BY position
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            QUALIFY history_len >= {int(split.min_history)})
        SELECT (row_number() OVER (ORDER BY user_id, position) - 1)::BIGINT AS example_id,
            user_id, item_id, timestamp, position,
            history,
            history_len::INTEGER AS history_len, {label} AS split
        FROM x ORDER BY user_id, position
        ) TO '{path}' (FORMAT parquet)"""
    )


def write_interactions(con: Any, path: Path, progress: Progress) -> None:
    """The kept rows with their review text, ordered by user, time, then line."""
    progress("writing interactions")
    cols = ", ".join(f"r.{c}" for c in INTERACTIONS_SCHEMA.names)
    con.execute(
        f"COPY (SELECT {cols} FROM kept k JOIN raw r USING (_row)"
        f" ORDER BY k.user_id, k.timestamp, k._row) TO '{path}' (FORMAT parquet)"
    )


def run(
    source: Path, work: Path, config: PrepareConfig, progress: Progress
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Write interactions and examples into ``work.parent``; return the catalogue and counts.

    ``work`` is a scratch folder (raw Parquet, DuckDB spill files) the caller removes.
    """
    from profilerec.data.filters import catalogue
    from profilerec.data.readers.amazon2023 import _locate, meta_chunks
    from profilerec.data.schema import EXAMPLES_FILE, INTERACTIONS_FILE

    reviews, meta = _locate(source)
    if reviews.suffix == ".csv" or reviews.name.endswith(".csv.gz"):
        raise UserError("--engine streaming reads Amazon 2023 reviews JSONL, not benchmark CSVs")
    report = SkipReport(lenient=config.read.lenient)
    work.mkdir(parents=True, exist_ok=True)
    con = connect(config.memory_limit, config.threads, work / "spill")  # checks the limit first
    try:
        raw_path = to_parquet(reviews, work, report, progress)
        meta_path = work / "meta.parquet"
        chunks = meta_chunks(meta, report) if meta else iter(())
        progress("reading item metadata")
        write_chunks(chunks, meta_path, items_frame([]))
        con.execute(f"CREATE VIEW raw AS SELECT * FROM read_parquet('{raw_path}')")
        con.execute(f"CREATE VIEW meta AS SELECT * FROM read_parquet('{meta_path}')")
        con.execute("CREATE TABLE known AS SELECT DISTINCT item_id FROM meta")
        n_meta, n_known = con.execute(
            "SELECT (SELECT count(*) FROM meta), (SELECT count(*) FROM known)"
        ).fetchall()[0]
        n_read = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
        if n_read == 0:
            raise UserError(f"{source}: no interactions were read")
        stats = interaction_stats(con, config.format, now_ms(), FUTURE_SLACK_MS)
        warnings = stats_warnings(stats, config.format, str(source))
        n_dedup, n_missing = filter_keys(
            con, config.missing_meta, config.k_core, str(source), progress
        )
        n_kept, n_users = con.execute(
            "SELECT count(*), count(DISTINCT user_id) FROM kept"
        ).fetchall()[0]
        if n_kept == 0:
            raise UserError(
                f"no interactions left after {config.k_core}-core filtering; try a smaller --k-core"
            )
        write_interactions(con, work.parent / INTERACTIONS_FILE, progress)
        write_examples(con, config.split, work.parent / EXAMPLES_FILE, progress)
        ids = pl.from_arrow(con.sql("SELECT DISTINCT item_id FROM kept").to_arrow_table())
        # Only the kept items' records (duplicates too, in file order): the first read wins.
        items = pl.from_arrow(
            con.sql(
                "SELECT * EXCLUDE (_row) FROM meta WHERE item_id IN (SELECT item_id FROM kept)"
                " ORDER BY _row"
            ).to_arrow_table()
        )
    except duckdb_errors() as exc:
        raise UserError(
            f"the streaming engine ran out of memory or disk under --memory-limit "
            f"{config.memory_limit} ({str(exc).splitlines()[0]}); raise the limit or free "
            f"space in {work.parent.parent}"
        ) from None
    finally:
        con.close()
    split_counts = dict(
        pl.scan_parquet(work.parent / EXAMPLES_FILE)
        .group_by("split")
        .len()
        .sort("split")
        .collect()
        .iter_rows()
    )
    counts = {
        "interactions_read": n_read,
        "after_duplicate_collapse": n_dedup,
        "duplicates_collapsed": n_read - n_dedup,
        "items_without_meta": n_missing,
        "interactions": n_kept,
        "users": n_users,
        "examples": split_counts,
    }
    sources = [reviews] + ([meta] if meta else [])
    return catalogue(ids, items), {
        "counts": counts,
        "warnings": warnings,
        "report": report,
        "sources": sources,
        "meta": meta_counts_warnings(n_meta, n_known, config.format),
    }


def duckdb_errors() -> tuple[type[Exception], ...]:
    import duckdb

    return (duckdb.OutOfMemoryException, duckdb.IOException)
