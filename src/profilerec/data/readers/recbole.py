"""RecBole atomic files: ``<name>.inter`` plus an optional ``<name>.item`` beside it.

Both are tab-separated with a typed header (``user_id:token\\titem_id:token\\t...``);
the ``:type`` suffix is stripped. Column names follow RecBole's defaults
(``user_id``, ``item_id``, ``rating``, ``timestamp``) unless ``--column`` maps a
canonical name to another field (e.g. ``item_id=business_id`` for Yelp).
Timestamps are converted with ``--time-unit`` (RecBole's own files use seconds).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from profilerec.data.io import SkipReport, open_binary
from profilerec.data.readers.base import (
    RawData,
    ReadOptions,
    clean_text,
    find_file,
    interactions_frame,
    items_frame,
)
from profilerec.errors import DataError, UserError

INTER_COLUMNS = ("user_id", "item_id", "timestamp", "rating", "review_title", "review_text")
REQUIRED = ("user_id", "item_id", "timestamp")
#: Item fields seen in RecBole's converted datasets, by canonical column (first present wins).
ITEM_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "movie_title", "item_name", "name", "book_title", "app_name"),
    "description": ("description", "desc", "plot", "overview"),
    "categories": ("categories", "category", "genres", "genre", "class"),
    "store": ("store", "brand", "publisher", "author", "developer"),
    "price": ("price",),
}
TIME_SCALE = {"s": 1000.0, "ms": 1.0}


def read(source: Path, options: ReadOptions) -> RawData:
    if options.time_unit not in TIME_SCALE:
        raise UserError(
            f"recbole timestamps must be numbers: --time-unit s or ms, not {options.time_unit!r}"
        )
    report = SkipReport(lenient=options.lenient)
    inter_path = (
        find_file(source, ["*.inter"], "interactions (.inter)", "recbole")
        if source.is_dir()
        else source
    )
    inter, item_field = _read_inter(inter_path, options, report)
    item_path = inter_path.with_suffix(".item")
    if not item_path.is_file():
        return RawData(inter, items_frame([]), [inter_path], report)
    items = _read_items(item_path, item_field, report)
    return RawData(inter, items, [inter_path, item_path], report)


def _rows(
    path: Path, report: SkipReport
) -> tuple[list[tuple[str, str]], Iterator[tuple[int, list[str]]]]:
    """The header as ``(name, type)`` pairs, and an iterator over the data rows' fields."""
    fh = open_binary(path)
    first = fh.readline()
    if not first.strip():
        fh.close()
        raise DataError(path, "file is empty")
    header = []
    for column in first.decode("utf-8", errors="replace").rstrip("\r\n").split("\t"):
        name, _, kind = column.strip().partition(":")
        header.append((name, kind))

    def rows() -> Iterator[tuple[int, list[str]]]:
        with fh:
            for number, raw in enumerate(fh, start=2):
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    report.problem(path, f"not valid UTF-8 (byte {exc.start})", number)
                    continue
                fields = text.rstrip("\r\n").split("\t")
                if len(fields) != len(header):
                    report.problem(
                        path,
                        f"expected {len(header)} tab-separated fields, got {len(fields)}",
                        number,
                    )
                    continue
                yield number, fields

    return header, rows()


def _read_inter(path: Path, options: ReadOptions, report: SkipReport) -> tuple[pl.DataFrame, str]:
    header, rows = _rows(path, report)
    names = [name for name, _ in header]
    unknown = sorted(set(options.columns) - set(INTER_COLUMNS))
    if unknown:
        raise UserError(
            f"unknown canonical column(s) {', '.join(unknown)}; "
            f"choose from {', '.join(INTER_COLUMNS)}"
        )
    where: dict[str, int] = {}
    for canonical in INTER_COLUMNS:
        field = options.columns.get(canonical, canonical)
        if field in names:
            where[canonical] = names.index(field)
        elif canonical in REQUIRED or canonical in options.columns:
            raise UserError(
                f"{path}: no {field!r} field for {canonical} (fields: {', '.join(names)}); "
                f"map one with --column {canonical}=FIELD"
            )
    scale = TIME_SCALE[options.time_unit]
    cols: dict[str, list[Any]] = {name: [] for name in where}
    i_user, i_item, i_time = where["user_id"], where["item_id"], where["timestamp"]
    i_rating = where.get("rating")
    texts = [(name, where[name]) for name in ("review_title", "review_text") if name in where]
    for number, fields in rows:
        user, item = fields[i_user].strip(), fields[i_item].strip()
        if not user or not item:
            report.problem(path, "missing required field user_id or item_id", number)
            continue
        try:
            stamp = round(float(fields[i_time]) * scale)
            rating = float(fields[i_rating]) if i_rating is not None and fields[i_rating] else None
        except ValueError:
            report.problem(path, "timestamp or rating is not a number", number)
            continue
        cols["user_id"].append(user)
        cols["item_id"].append(item)
        cols["timestamp"].append(stamp)
        if i_rating is not None:
            cols["rating"].append(rating)
        for name, index in texts:
            cols[name].append(fields[index])
    return interactions_frame(cols), options.columns.get("item_id", "item_id")


def _read_items(path: Path, item_field: str, report: SkipReport) -> pl.DataFrame:
    header, rows = _rows(path, report)
    names = [name for name, _ in header]
    if item_field not in names:
        raise UserError(f"{path}: no {item_field!r} field (fields: {', '.join(names)})")
    chosen = {
        canonical: next((n for n in aliases if n in names), None)
        for canonical, aliases in ITEM_ALIASES.items()
    }
    used = {item_field, *(n for n in chosen.values() if n)}
    kinds = dict(header)
    out = []
    for number, fields in rows:
        record = dict(zip(names, fields, strict=True))
        if not record[item_field].strip():
            report.problem(path, f"missing required field {item_field}", number)
            continue
        row: dict[str, Any] = {"item_id": record[item_field].strip()}
        for canonical, name in chosen.items():
            if name is None:
                continue
            value = record[name]
            if canonical == "categories" and kinds[name] == "token_seq":
                row[canonical] = _tokens(value)
            else:
                row[canonical] = value
        row["details"] = {
            n: clean_text(v) for n, v in record.items() if n not in used and v.strip()
        }
        out.append(row)
    return items_frame(out)


def _tokens(value: str) -> list[str]:
    """A ``token_seq`` of categories: comma lists ("'Beauty', 'Skin Care'") split on commas
    with quotes stripped; otherwise RecBole's space-separated tokens ("Action Comedy")."""
    if "," in value:
        return [t for t in (part.strip().strip("'\"[] ") for part in value.split(",")) if t]
    return [t for t in re.split(r"\s+", value.strip()) if t]
