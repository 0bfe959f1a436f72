"""Amazon Review Data 2018 (Ni et al.) and 2014 (McAuley et al.): reviews + ``meta_`` JSON lines.

SOURCE is a reviews file (``Gift_Cards_5.json[.gz]``, ``reviews_Books_5.json.gz``) whose
``meta_<Category>.json[.gz]`` is looked up beside it, or a folder holding both. The 2014
files were written with Python's ``str(dict)``, so a line that is not JSON is tried as a
Python literal before it counts as malformed.
"""

from __future__ import annotations

import ast
import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from profilerec.data.io import SkipReport, missing_fields, open_binary
from profilerec.data.readers.base import (
    RawData,
    ReadOptions,
    clean_text,
    interactions_frame,
    items_frame,
)
from profilerec.errors import DataError, UserError

REVIEW_FIELDS = ("reviewerID", "asin", "unixReviewTime")
META_FIELDS = ("asin",)
#: Extra meta fields kept (as text) in ``details`` beside the ``details`` dict itself.
DETAIL_FIELDS = ("tech1", "tech2")
_JSON_NAME = re.compile(r"\.jsonl?(\.gz)?$")


def read(source: Path, options: ReadOptions) -> RawData:
    if options.columns:  # fixed field names: a mapping would be silently ignored
        raise UserError(
            "--column applies to csv, parquet and recbole sources, not amazon2018/amazon2014"
        )
    report = SkipReport(lenient=options.lenient)
    reviews, meta = locate(source)
    inter = _read_reviews(reviews, report)
    wanted = set(inter["item_id"].to_list())
    items = _read_meta(meta, wanted, report) if meta else items_frame([])
    return RawData(inter, items, [reviews] + ([meta] if meta else []), report)


def locate(source: Path) -> tuple[Path, Path | None]:
    """The reviews file and its meta file (None when there is none beside it)."""
    if not source.is_dir():
        return source, _meta_for(source)
    jsons = sorted(
        p
        for p in source.iterdir()
        if p.is_file() and not p.name.startswith("meta_") and _JSON_NAME.search(p.name)
    )
    # A folder may hold other JSON (stats, configs): prefer files that have a meta beside them.
    paired = [p for p in jsons if _meta_for(p)]
    candidates = paired or jsons
    if not candidates:
        raise UserError(
            f"{source}: no reviews file (*.json, *.jsonl, plain or .gz) for format amazon2018"
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise UserError(f"{source}: several reviews files ({names}); pass one file")
    return candidates[0], _meta_for(candidates[0])


def _meta_for(reviews: Path) -> Path | None:
    """``Gift_Cards_5.json`` -> ``meta_Gift_Cards.json``; ``reviews_Books_5.json.gz`` ->
    ``meta_Books.json[.gz]`` (plain or gzip, whichever exists)."""
    category = _JSON_NAME.sub("", reviews.name)
    category = re.sub(r"_5$", "", category)
    category = re.sub(r"^reviews_", "", category)
    for suffix in (".json", ".json.gz", ".jsonl", ".jsonl.gz"):
        meta = reviews.parent / f"meta_{category}{suffix}"
        if meta.is_file() and meta != reviews:
            return meta
    return None


def iter_records(path: Path, report: SkipReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for JSON or Python-literal object lines.

    Unlike :func:`profilerec.data.io.iter_json_lines` a line is only decoded when
    orjson rejects it (orjson validates UTF-8 itself), which keeps the common path fast.
    """
    seen_any = False
    with open_binary(path) as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]  # a byte order mark is not data
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                if not raw.strip():  # checked only here: blank lines are rare, strip is not free
                    continue
                seen_any = True
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as bad:
                    report.problem(path, f"not valid UTF-8 (byte {bad.start})", number)
                    continue
                record = _python_literal(text)
                if record is None:
                    report.problem(path, f"malformed JSON ({exc.msg})", number)
                    continue
            seen_any = True
            if not isinstance(record, dict):
                report.problem(path, "expected a JSON object per line", number)
                continue
            yield number, record
    if not seen_any:
        raise DataError(path, "file is empty")


def _python_literal(text: str) -> Any:
    """The 2014 files' ``{'asin': ...}`` lines; None when the text is not a literal either."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _read_reviews(path: Path, report: SkipReport) -> pl.DataFrame:
    users: list[str] = []
    items: list[str] = []
    stamps: list[int] = []
    ratings: list[float | None] = []
    titles: list[str] = []
    texts: list[str] = []
    for line, rec in iter_records(path, report):
        user, item, stamp = rec.get("reviewerID"), rec.get("asin"), rec.get("unixReviewTime")
        if not user or not item or stamp is None or stamp == "":
            missing = missing_fields(rec, REVIEW_FIELDS)
            report.problem(path, f"missing required field(s) {', '.join(missing)}", line)
            continue
        try:
            ts = int(stamp) * 1000
            overall = rec.get("overall")
            rating = None if overall is None else float(overall)
        except (TypeError, ValueError):
            report.problem(path, "unixReviewTime or overall is not a number", line)
            continue
        users.append(str(user))
        items.append(str(item))
        stamps.append(ts)
        ratings.append(rating)
        titles.append(rec.get("summary") or "")
        texts.append(rec.get("reviewText") or "")
    return interactions_frame(
        {
            "user_id": users,
            "item_id": items,
            "timestamp": stamps,
            "rating": ratings,
            "review_title": titles,
            "review_text": texts,
        }
    )


def _read_meta(path: Path, wanted: set[str], report: SkipReport) -> pl.DataFrame:
    """Meta rows for reviewed items only: the full-category meta files are far larger
    than any k-core, and only reviewed items can reach the catalogue. Every line is
    still parsed, so a broken meta line is reported wherever it is.
    The 2018 meta repeats some asins; the first record wins."""
    rows: dict[str, dict[str, Any]] = {}
    for line, rec in iter_records(path, report):
        if missing_fields(rec, META_FIELDS):
            report.problem(path, "missing required field asin", line)
            continue
        asin = str(rec["asin"])
        if asin not in wanted or asin in rows:
            continue
        rows[asin] = {
            "item_id": asin,
            "title": rec.get("title"),
            "description": rec.get("description"),
            "features": rec.get("feature"),
            # 2018: "category" (a flat path); 2014: "categories" (a list of paths).
            "categories": _unique(rec.get("category") or rec.get("categories")),
            "store": rec.get("brand"),
            "price": rec.get("price"),
            "details": _details(rec),
        }
    return items_frame(rows.values())


def _unique(value: Any) -> Any:
    """2018 paths repeat the top level ("Gift Cards", "Gift Cards"); keep first occurrences."""
    if not isinstance(value, list):
        return value
    flat: list[Any] = []
    for v in value:
        flat.extend(v if isinstance(v, list) else [v])
    return list(dict.fromkeys(clean_text(v) for v in flat if clean_text(v)))


def _details(rec: dict[str, Any]) -> dict[str, Any]:
    """The ``details`` dict with tidy keys ("\\n  Product Dimensions: \\n" -> "Product Dimensions"),
    minus the ASIN (it is the item id already)."""
    out: dict[str, Any] = {}
    details = rec.get("details")
    if isinstance(details, dict):
        for key, value in details.items():
            name = clean_text(key).rstrip(":").strip()
            if name and name != "ASIN" and value not in (None, "", [], {}):
                out[name] = clean_text(value) if isinstance(value, str) else value
    for name in DETAIL_FIELDS:
        value = rec.get(name)
        if value not in (None, "", [], {}):
            out[name] = value
    return out
