"""What every reader returns, and helpers to build canonical frames from records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson
import polars as pl
import pyarrow as pa

from profilerec.data.io import SkipReport
from profilerec.data.schema import INTERACTIONS_SCHEMA, ITEMS_SCHEMA
from profilerec.errors import UserError


@dataclass
class ReadOptions:
    """Options shared by readers; format-specific keys go in ``columns``."""

    lenient: bool = False
    #: For csv/parquet: canonical column name -> source column name.
    columns: dict[str, str] = field(default_factory=dict)
    #: Source timestamp unit for tabular formats: "s", "ms" or "iso".
    time_unit: str = "s"


@dataclass
class RawData:
    """A source read into canonical columns, before filters and splits."""

    interactions: pl.DataFrame
    items: pl.DataFrame
    sources: list[Path]
    report: SkipReport
    #: Benchmark layouts whose split is given (MiniOneRec): the examples exactly as the
    #: source defines them (canonical columns). ``prepare`` then keeps them as they are:
    #: no k-core, no re-splitting, and the whole ``items`` table is the catalogue.
    examples: pl.DataFrame | None = None
    #: What the reader wants recorded in the manifest (e.g. where training pairs came from).
    notes: dict[str, Any] = field(default_factory=dict)
    #: Warnings the reader found (printed after the summary, kept in the manifest).
    warnings: list[str] = field(default_factory=list)


class Reader(Protocol):
    """A source format: reads a file or folder into :class:`RawData`."""

    def __call__(self, source: Path, options: ReadOptions) -> RawData: ...


def polars_schema(schema: pa.Schema) -> pl.Schema:
    """The polars schema of an Arrow schema (``empty_table()`` would import pandas)."""
    return pl.from_arrow(pa.Table.from_batches([], schema=schema)).schema  # type: ignore[union-attr]


def interactions_frame(columns: dict[str, Sequence[Any]]) -> pl.DataFrame:
    """Canonical interactions from column lists; absent optional columns become nulls."""
    n = len(columns["user_id"])
    data = {name: columns.get(name, [None] * n) for name in INTERACTIONS_SCHEMA.names}
    return pl.DataFrame(data, schema=pl.Schema(polars_schema(INTERACTIONS_SCHEMA)))


def items_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Canonical items from dicts holding any subset of the item columns."""
    schema = polars_schema(ITEMS_SCHEMA)
    normalised = [normalise_item(row) for row in rows]
    if not normalised:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(normalised, schema=schema)


def normalise_item(row: dict[str, Any]) -> dict[str, Any]:
    """Fill every item column with a typed value (``""``/``[]``/None when missing)."""
    details = row.get("details")
    if isinstance(details, dict):
        details = orjson.dumps(details, option=orjson.OPT_SORT_KEYS).decode() if details else ""
    return {
        "item_id": str(row["item_id"]),
        "title": clean_text(row.get("title")),
        "description": clean_text(row.get("description")),
        "features": string_list(row.get("features")),
        "categories": string_list(row.get("categories")),
        "store": clean_text(row.get("store")),
        "price": parse_price(row.get("price")),
        "details": details or "",
        "has_meta": bool(row.get("has_meta", True)),
    }


def clean_text(value: Any) -> str:
    """Join list-valued text fields and strip whitespace; None becomes ``""``."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(clean_text(v) for v in value if clean_text(v))
    return " ".join(str(value).split())


def string_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [clean_text(value)]
    out: list[str] = []
    for v in value:
        if isinstance(v, list):  # 2014 meta nests category paths
            out.extend(string_list(v))
        elif clean_text(v):
            out.append(clean_text(v))
    return out


def parse_price(value: Any) -> float | None:
    """Prices arrive as floats, "$12.99", "12.99 - 15.00" or junk; keep the first number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).replace("$", "").replace(",", "").strip()
    first = text.split("-")[0].strip().split(" ")[0]
    try:
        return float(first)
    except ValueError:
        return None


def find_file(source: Path, patterns: Sequence[str], what: str, fmt: str) -> Path:
    """The one file in ``source`` (a folder) matching the first pattern that matches."""
    for pattern in patterns:
        hits = sorted(p for p in source.glob(pattern) if p.is_file())
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            names = ", ".join(p.name for p in hits)
            raise UserError(
                f"{source}: several {what} files for format {fmt!r} ({names}); pass one file"
            )
    raise UserError(
        f"{source}: no {what} file for format {fmt!r} (looked for {', '.join(patterns)})"
    )
