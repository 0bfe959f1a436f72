"""Generic tables (formats ``csv`` and ``parquet``): any interaction log with a column mapping.

SOURCE is a table (``.csv``, ``.tsv``, ``.csv.gz``, ``.tsv.gz`` or ``.parquet``; the
suffix decides how it is read) or a folder holding ``interactions.*`` and optionally
``items.*``. ``--column canonical=source`` maps canonical names to the file's columns
(identity otherwise) for both files; ``--time-unit`` says whether timestamps are
seconds, milliseconds or ISO 8601 text (Parquet datetime columns need no unit).

Problems are located by line for CSV (header = line 1, assuming no quoted newlines)
and by 1-based row for Parquet.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from profilerec.data.io import SkipReport, open_binary
from profilerec.data.readers.base import RawData, ReadOptions, items_frame
from profilerec.errors import DataError, UserError

INTER_COLUMNS = ("user_id", "item_id", "timestamp", "rating", "review_title", "review_text")
ITEM_COLUMNS = (
    "item_id",
    "title",
    "description",
    "features",
    "categories",
    "store",
    "price",
    "details",
)
REQUIRED = ("user_id", "item_id", "timestamp")
LIST_COLUMNS = ("features", "categories")
#: Text cells of list columns hold several values separated by this (MovieLens style).
LIST_SEPARATOR = "|"
TIME_UNITS = ("s", "ms", "iso")
SUFFIXES = {".csv": ",", ".tsv": "\t", ".csv.gz": ",", ".tsv.gz": "\t", ".parquet": ""}
_REASON = "_reason"


def read(source: Path, options: ReadOptions) -> RawData:
    report = SkipReport(lenient=options.lenient)
    if options.time_unit not in TIME_UNITS:
        raise UserError(
            f"--time-unit must be one of {', '.join(TIME_UNITS)}, not {options.time_unit!r}"
        )
    unknown = sorted(set(options.columns) - set(INTER_COLUMNS) - set(ITEM_COLUMNS))
    if unknown:
        valid = ", ".join(dict.fromkeys(INTER_COLUMNS + ITEM_COLUMNS))
        raise UserError(
            f"unknown canonical column(s) in --column: {', '.join(unknown)}; choose from {valid}"
        )
    inter_path, items_path = locate(source)
    inter = _interactions(inter_path, options, report)
    items = _items(items_path, options, report) if items_path else items_frame([])
    return RawData(inter, items, [inter_path] + ([items_path] if items_path else []), report)


def locate(source: Path) -> tuple[Path, Path | None]:
    """The interactions table and the optional items table (folders only)."""
    if not source.is_dir():
        _suffix(source)
        return source, None
    interactions = _tables(source, "interactions")
    if not interactions:
        wanted = ", ".join(f"interactions{s}" for s in SUFFIXES)
        raise UserError(f"{source}: no interactions table (looked for {wanted})")
    items = _tables(source, "items")
    return interactions[0], (items[0] if items else None)


def _tables(folder: Path, stem: str) -> list[Path]:
    """``<stem>.<suffix>`` files in ``folder``; a UserError when there are several."""
    hits = sorted(folder / f"{stem}{s}" for s in SUFFIXES if (folder / f"{stem}{s}").is_file())
    if len(hits) > 1:
        raise UserError(
            f"{folder}: several {stem} tables ({', '.join(p.name for p in hits)}); keep one"
        )
    return hits


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise UserError(f"{path}: unsupported table type; use {', '.join(SUFFIXES)}")


def _load(path: Path, report: SkipReport) -> tuple[pl.DataFrame, int]:
    """The table (CSV cells as text) and the line/row number of its first data row."""
    separator = SUFFIXES[_suffix(path)]
    if not separator:
        try:
            return pl.read_parquet(path), 1
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise DataError(path, f"cannot read Parquet ({_first_line(exc)})") from None
    if path.stat().st_size == 0:
        raise DataError(path, "file is empty")
    try:
        # All cells as text: ids such as "007" stay intact; types are checked per column below.
        frame = pl.read_csv(path, separator=separator, infer_schema=False)
        # "user_id, item_id" headers (a space after the comma) are common in hand-made files
        return frame.rename({c: c.strip() for c in frame.columns}), 2
    except pl.exceptions.NoDataError:
        raise DataError(path, "file is empty") from None
    except pl.exceptions.ComputeError:
        # polars does not say where: re-read with the csv module, which locates each
        # problem (strict) or skips and counts it (lenient). Only bad files pay for this.
        return _read_csv_slowly(path, separator, report), 2


def _read_csv_slowly(path: Path, separator: str, report: SkipReport) -> pl.DataFrame:
    where = [0]

    def lines() -> Iterator[str]:
        with open_binary(path) as fh:
            for number, raw in enumerate(fh, start=1):
                where[0] = number
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    report.problem(path, f"not valid UTF-8 (byte {exc.start})", number)

    rows = csv.reader(lines(), delimiter=separator)
    header = next(rows, None)
    if not header:
        raise DataError(path, "file is empty")
    columns: list[list[str]] = [[] for _ in header]
    for fields in rows:
        if not fields:
            continue
        if len(fields) != len(header):
            report.problem(path, f"expected {len(header)} fields, got {len(fields)}", where[0])
            continue
        for column, value in zip(columns, fields, strict=True):
            column.append(value)
    header = [name.strip() for name in header]
    return pl.DataFrame(
        dict(zip(header, columns, strict=True)), schema=dict.fromkeys(header, pl.String)
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _mapped(
    frame: pl.DataFrame,
    path: Path,
    options: ReadOptions,
    wanted: tuple[str, ...],
    required: tuple[str, ...],
) -> dict[str, str]:
    """canonical -> source column for the columns present.

    A required column, or one the user mapped explicitly, that is absent is a UserError."""
    found: dict[str, str] = {}
    for canonical in wanted:
        column = options.columns.get(canonical, canonical)
        if column in frame.columns:
            found[canonical] = column
        elif canonical in required or canonical in options.columns:
            raise UserError(
                f"{path}: no column {column!r} for {canonical}; available columns: "
                f"{', '.join(frame.columns)} (map one with --column {canonical}=COLUMN)"
            )
    return found


def _text(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars()


def _interactions(path: Path, options: ReadOptions, report: SkipReport) -> pl.DataFrame:
    frame, first = _load(path, report)
    cols = _mapped(frame, path, options, INTER_COLUMNS, REQUIRED)
    stamp = _timestamps(frame[cols["timestamp"]], options.time_unit)
    out = frame.select(
        _text(cols["user_id"]).alias("user_id"),
        _text(cols["item_id"]).alias("item_id"),
        stamp.alias("timestamp"),
        _text(cols["timestamp"]).alias("_ts_text"),
        (_number(cols["rating"]) if "rating" in cols else pl.lit(None, pl.Float64)).alias("rating"),
        (_text(cols["rating"]) if "rating" in cols else pl.lit(None, pl.String)).alias(
            "_rating_text"
        ),
        *(
            (
                pl.col(cols[name]).cast(pl.String).fill_null("") if name in cols else pl.lit("")
            ).alias(name)
            for name in ("review_title", "review_text")
        ),
    )
    unit = {
        "s": "a number of seconds",
        "ms": "a number of milliseconds",
        "iso": "an ISO 8601 date",
    }[options.time_unit]
    reason = (
        pl.when(pl.col("user_id").fill_null("") == "")
        .then(pl.lit("missing required field user_id"))
        .when(pl.col("item_id").fill_null("") == "")
        .then(pl.lit("missing required field item_id"))
        .when(pl.col("_ts_text").fill_null("") == "")
        .then(pl.lit("missing required field timestamp"))
        .when(pl.col("timestamp").is_null())
        .then(pl.format("timestamp is not {}: '{}' (see --time-unit)", pl.lit(unit), "_ts_text"))
        .when(pl.col("rating").is_null() & (pl.col("_rating_text").fill_null("") != ""))
        .then(pl.format("rating is not a number: '{}'", "_rating_text"))
        .otherwise(None)
        .alias(_REASON)
    )
    out = _drop_bad(out.with_columns(reason), path, first, report)
    return out.select(INTER_COLUMNS)


def _number(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


def _timestamps(values: pl.Series, unit: str) -> pl.Expr:
    """Milliseconds since the epoch, null where a value cannot be read in ``unit``."""
    if values.dtype == pl.Date:
        values = values.cast(pl.Datetime("ms"))
    if isinstance(values.dtype, pl.Datetime):
        ms = _epoch_ms(values)
    elif unit == "iso":
        ms = _iso_ms(values.cast(pl.String).str.strip_chars())
    else:
        scale = 1000.0 if unit == "s" else 1.0
        number = values.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
        ms = (number * scale).round().cast(pl.Int64, strict=False)
    return pl.lit(ms)


def _epoch_ms(values: pl.Series) -> pl.Series:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    if getattr(values.dtype, "time_zone", None):
        values = values.dt.convert_time_zone("UTC")
    return values.dt.epoch("ms")


def _iso_ms(text: pl.Series) -> pl.Series:
    """Vectorised parse of the common ISO form; values polars cannot infer (mixed forms,
    dates without times next to full stamps) go through ``datetime.fromisoformat``."""
    try:
        ms = _epoch_ms(text.str.to_datetime(strict=False, time_unit="ms"))
    except pl.exceptions.PolarsError:
        ms = pl.Series(text.name, [None] * len(text), dtype=pl.Int64)
    todo = (ms.is_null() & text.is_not_null()).arg_true()
    if len(todo):
        values = [_py_iso(v) for v in text.gather(todo).to_list()]
        ms = ms.scatter(todo, pl.Series(values, dtype=pl.Int64))
    return ms


def _py_iso(value: str) -> int | None:
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return round(stamp.timestamp() * 1000)


def _drop_bad(frame: pl.DataFrame, path: Path, first: int, report: SkipReport) -> pl.DataFrame:
    """Report each row with a reason (raises in strict mode), then drop them."""
    bad = frame.with_row_index("_row").filter(pl.col(_REASON).is_not_null())
    for row, reason in bad.select("_row", _REASON).iter_rows():
        report.problem(path, reason, row + first)
    return frame.filter(pl.col(_REASON).is_null())


def _items(path: Path, options: ReadOptions, report: SkipReport) -> pl.DataFrame:
    frame, first = _load(path, report)
    cols = _mapped(frame, path, options, ITEM_COLUMNS, ("item_id",))
    exprs = [_text(cols["item_id"]).alias("item_id")]
    for name in ITEM_COLUMNS[1:]:
        if name not in cols:
            continue
        column = pl.col(cols[name])
        if name in LIST_COLUMNS and frame[cols[name]].dtype == pl.String:
            column = column.str.split(LIST_SEPARATOR)
        exprs.append(column.alias(name))
    reason = (
        pl.when(pl.col("item_id").fill_null("") == "")
        .then(pl.lit("missing required field item_id"))
        .otherwise(None)
        .alias(_REASON)
    )
    out = _drop_bad(frame.select(exprs).with_columns(reason), path, first, report).drop(_REASON)
    return items_frame(out.to_dicts())
