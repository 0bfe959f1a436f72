"""Amazon Reviews 2023 (McAuley Lab): reviews/meta JSONL and the official benchmark CSVs.

SOURCE may be a reviews JSONL file (``meta_<name>.jsonl[.gz]`` beside it is used
when present), a folder holding both, a ``5core/rating_only`` CSV, or a
``last_out_w_his`` folder/CSV (its train/valid/test rows together are the interactions).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from profilerec.data.io import SkipReport, is_gzip, iter_json_lines, missing_fields, read_bytes
from profilerec.data.readers.base import (
    RawData,
    ReadOptions,
    find_file,
    interactions_frame,
    items_frame,
)
from profilerec.errors import DataError, UserError

REVIEW_FIELDS = ("user_id", "parent_asin", "timestamp")
META_FIELDS = ("parent_asin",)
BENCHMARK_FIELDS = ("user_id", "parent_asin", "timestamp")


def read(source: Path, options: ReadOptions) -> RawData:
    report = SkipReport(lenient=options.lenient)
    reviews, meta = _locate(source)
    if reviews.suffix == ".csv" or reviews.name.endswith(".csv.gz"):
        files = _benchmark_files(reviews)
        inter = _read_benchmark(files, report)
    else:
        files = [reviews]
        inter = _read_reviews(reviews, report)
    items = _read_meta(meta, report) if meta else items_frame([])
    return RawData(inter, items, files + ([meta] if meta else []), report)


def _locate(source: Path) -> tuple[Path, Path | None]:
    if source.is_file():
        base = source.name.removesuffix(".gz").removesuffix(".jsonl")
        metas = sorted(
            p for p in source.parent.glob(f"meta_{base}*.jsonl*") if p.is_file() and p != source
        )
        return source, (metas[0] if metas else None)
    reviews = [
        p
        for p in sorted(source.glob("*.jsonl")) + sorted(source.glob("*.jsonl.gz"))
        if p.is_file() and not p.name.startswith("meta_")
    ]
    if len(reviews) > 1:
        names = ", ".join(p.name for p in reviews)
        raise UserError(
            f"{source}: several reviews files for format 'amazon2023' ({names}); pass one file"
        )
    if not reviews:
        try:
            reviews = [find_file(source, ["*.train.csv", "*.csv"], "reviews", "amazon2023")]
        except UserError as exc:
            if "several" in str(exc):
                raise
            raise UserError(
                f"{source}: no reviews file for format 'amazon2023' "
                "(looked for *.jsonl, *.jsonl.gz, *.train.csv, *.csv)"
            ) from None
    metas = sorted(p for p in source.glob("meta_*.jsonl*") if p.is_file())
    return reviews[0], (metas[0] if metas else None)


FAST_SCHEMA = {
    "user_id": pl.String,
    "parent_asin": pl.String,
    "timestamp": pl.Int64,
    "rating": pl.Float64,
    "title": pl.String,
    "text": pl.String,
}


def _read_reviews(path: Path, report: SkipReport) -> pl.DataFrame:
    """polars' multi-threaded JSON reader first; the line loop when anything is off.

    The loop is what names the bad line (or counts it in lenient mode), so any
    parse error or row missing a required field sends the whole file through it.
    """
    fast = _read_reviews_fast(path)
    return fast if fast is not None else _read_reviews_loop(path, report)


def _read_reviews_fast(path: Path) -> pl.DataFrame | None:
    try:
        source: Path | io.BytesIO = io.BytesIO(read_bytes(path)) if is_gzip(path) else path
        frame = pl.read_ndjson(source, schema=FAST_SCHEMA)
    except Exception:  # any polars parse/decode error: the loop will locate it
        return None
    if frame.height == 0:
        return None
    frame = frame.select(canonical_reviews())
    return None if frame.select(bad_keys()).item() else frame


def canonical_reviews() -> list[pl.Expr]:
    """FAST_SCHEMA columns -> the canonical interaction columns (eager or lazy frames)."""
    return [
        pl.col("user_id"),
        pl.col("parent_asin").alias("item_id"),
        pl.col("timestamp"),
        pl.col("rating"),
        pl.col("title").fill_null("").alias("review_title"),
        pl.col("text").fill_null("").alias("review_text"),
    ]


def bad_keys() -> pl.Expr:
    """How many canonical rows lack a user, item or timestamp: then the line loop must run."""
    return pl.any_horizontal(
        pl.col("user_id").is_null() | (pl.col("user_id") == ""),
        pl.col("item_id").is_null() | (pl.col("item_id") == ""),
        pl.col("timestamp").is_null(),
    ).sum()


def _read_reviews_loop(path: Path, report: SkipReport) -> pl.DataFrame:
    chunks = list(review_chunks(path, report))
    return pl.concat(chunks) if chunks else interactions_frame({"user_id": []})


def review_chunks(path: Path, report: SkipReport, rows: int = 500_000) -> Iterator[pl.DataFrame]:
    """The line loop, in canonical frames of at most ``rows`` rows (bounded memory).

    It names the first bad line as ``file:line`` (or counts it in lenient mode).
    """
    names = ("user_id", "item_id", "timestamp", "rating", "review_title", "review_text")
    cols: dict[str, list[Any]] = {k: [] for k in names}
    for line, rec in iter_json_lines(path, report):
        missing = missing_fields(rec, REVIEW_FIELDS)
        if missing:
            report.problem(path, f"missing required field(s) {', '.join(missing)}", line)
            continue
        try:
            ts = int(rec["timestamp"])
            rating = None if rec.get("rating") is None else float(rec["rating"])
        except (TypeError, ValueError):
            report.problem(path, "timestamp or rating is not a number", line)
            continue
        cols["user_id"].append(str(rec["user_id"]))
        cols["item_id"].append(str(rec["parent_asin"]))
        cols["timestamp"].append(ts)
        cols["rating"].append(rating)
        cols["review_title"].append(rec.get("title") or "")
        cols["review_text"].append(rec.get("text") or "")
        if len(cols["user_id"]) == rows:
            yield interactions_frame(cols)
            cols = {k: [] for k in names}
    if cols["user_id"]:
        yield interactions_frame(cols)


def _benchmark_files(path: Path) -> list[Path]:
    """A ``last_out_w_his`` split is three files; read them together."""
    name = path.name
    for split in (".train.", ".valid.", ".test."):
        if split in name:
            siblings = [
                path.parent / name.replace(split, s) for s in (".train.", ".valid.", ".test.")
            ]
            return [p for p in siblings if p.is_file()]
    return [path]


def _read_benchmark(files: list[Path], report: SkipReport) -> pl.DataFrame:
    cols: dict[str, list[Any]] = {"user_id": [], "item_id": [], "timestamp": [], "rating": []}
    for path in files:
        text = read_bytes(path).decode("utf-8", errors="strict") if path else ""
        rows = csv.DictReader(io.StringIO(text))
        if not rows.fieldnames or missing_fields(
            dict.fromkeys(rows.fieldnames, "x"), BENCHMARK_FIELDS
        ):
            raise DataError(path, f"expected CSV columns {', '.join(BENCHMARK_FIELDS)}", 1)
        for line, row in enumerate(rows, start=2):
            try:
                cols["timestamp"].append(int(row["timestamp"]))
                cols["rating"].append(float(row["rating"]) if row.get("rating") else None)
            except ValueError:
                report.problem(path, "timestamp or rating is not a number", line)
                continue
            cols["user_id"].append(row["user_id"])
            cols["item_id"].append(row["parent_asin"])
    return interactions_frame(cols)


def _read_meta(path: Path, report: SkipReport) -> pl.DataFrame:
    chunks = list(meta_chunks(path, report))
    return pl.concat(chunks) if chunks else items_frame([])


def meta_chunks(path: Path, report: SkipReport, rows: int = 200_000) -> Iterator[pl.DataFrame]:
    """Canonical item frames of at most ``rows`` records, in file order (bounded memory)."""
    batch: list[dict[str, Any]] = []
    for line, rec in iter_json_lines(path, report):
        if missing_fields(rec, META_FIELDS):
            report.problem(path, "missing required field parent_asin", line)
            continue
        details = rec.get("details") if isinstance(rec.get("details"), dict) else {}
        store = rec.get("store") or details.get("Brand") or details.get("brand")
        batch.append(
            {
                "item_id": rec["parent_asin"],
                "title": rec.get("title"),
                "description": rec.get("description"),
                "features": rec.get("features"),
                "categories": rec.get("categories"),
                "store": store,
                "price": rec.get("price"),
                "details": details,
            }
        )
        if len(batch) == rows:
            yield items_frame(batch)
            batch = []
    if batch:
        yield items_frame(batch)
