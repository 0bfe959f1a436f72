"""Google Local Reviews 2021 (UCSD): ``review-<State>*.json[.gz]`` + ``meta-<State>.json[.gz]``.

SOURCE is a review file (``review-South_Dakota.json.gz``, ``review-South_Dakota_10.json.gz``)
whose ``meta-<State>`` file is looked up beside it, or a folder holding one review file.
Businesses are the items (``gmap_id``); a review's ``name`` is the reviewer, not the business.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from profilerec.data.io import SkipReport, iter_json_lines, missing_fields
from profilerec.data.readers.base import (
    RawData,
    ReadOptions,
    find_file,
    interactions_frame,
    items_frame,
)
from profilerec.errors import UserError

REVIEW_FIELDS = ("user_id", "gmap_id", "time")
META_FIELDS = ("gmap_id",)
#: Meta fields with no canonical column, kept in ``details``.
DETAIL_FIELDS = ("address", "avg_rating", "num_of_reviews", "price")
_NAME = re.compile(r"^review-(?P<state>[^.]+?)(_\d+)?\.")


def read(source: Path, options: ReadOptions) -> RawData:
    if options.columns:  # fixed field names: a mapping would be silently ignored
        raise UserError("--column applies to csv, parquet and recbole sources, not google_local")
    report = SkipReport(lenient=options.lenient)
    reviews, meta = locate(source)
    inter = _read_reviews(reviews, report)
    wanted = set(inter["item_id"].to_list())
    items = _read_meta(meta, wanted, report) if meta else items_frame([])
    return RawData(inter, items, [reviews] + ([meta] if meta else []), report)


def locate(source: Path) -> tuple[Path, Path | None]:
    """The review file and its ``meta-<State>`` file (None when absent)."""
    reviews = source
    if source.is_dir():
        reviews = find_file(source, ["review-*.json", "review-*.json.gz"], "review", "google_local")
    match = _NAME.match(reviews.name)
    if match:
        for suffix in (".json", ".json.gz"):
            meta = reviews.parent / f"meta-{match['state']}{suffix}"
            if meta.is_file():
                return reviews, meta
    metas = sorted(p for p in reviews.parent.glob("meta-*.json*") if p.is_file())
    if len(metas) == 1:
        return reviews, metas[0]
    if len(metas) > 1:
        names = ", ".join(p.name for p in metas)
        raise UserError(
            f"{reviews}: cannot tell which meta file belongs to it ({names}); "
            "name the reviews review-<State>.json like the meta-<State>.json file"
        )
    return reviews, None


def _read_reviews(path: Path, report: SkipReport) -> pl.DataFrame:
    users: list[str] = []
    items: list[str] = []
    stamps: list[int] = []
    ratings: list[float | None] = []
    texts: list[str] = []
    for line, rec in iter_json_lines(path, report):
        user, item, stamp = rec.get("user_id"), rec.get("gmap_id"), rec.get("time")
        if user is None or user == "" or not item or stamp is None or stamp == "":
            missing = missing_fields(rec, REVIEW_FIELDS)
            report.problem(path, f"missing required field(s) {', '.join(missing)}", line)
            continue
        try:
            ts = int(stamp)
            rating = None if rec.get("rating") is None else float(rec["rating"])
        except (TypeError, ValueError):
            report.problem(path, "time or rating is not a number", line)
            continue
        # Ids are JSON strings in the official files and are kept verbatim; a number
        # (as in some re-exported copies) keeps its shortest text form.
        users.append(user if isinstance(user, str) else repr(user))
        items.append(str(item))
        stamps.append(ts)
        ratings.append(rating)
        texts.append(rec.get("text") or "")
    return interactions_frame(
        {
            "user_id": users,
            "item_id": items,
            "timestamp": stamps,
            "rating": ratings,
            "review_title": [""] * len(users),
            "review_text": texts,
        }
    )


def _read_meta(path: Path, wanted: set[str], report: SkipReport) -> pl.DataFrame:
    """Meta rows for reviewed businesses only (a state's meta is far larger than a sample);
    every line is still parsed so a broken line is reported. Repeated ids: first wins."""
    rows: dict[str, dict[str, Any]] = {}
    for line, rec in iter_json_lines(path, report):
        if missing_fields(rec, META_FIELDS):
            report.problem(path, "missing required field gmap_id", line)
            continue
        gmap_id = str(rec["gmap_id"])
        if gmap_id not in wanted or gmap_id in rows:
            continue
        rows[gmap_id] = {
            "item_id": gmap_id,
            "title": rec.get("name"),
            "description": rec.get("description"),
            "categories": rec.get("category"),
            # "price" is a level such as "$$", not an amount: it goes to details.
            "details": {k: rec[k] for k in DETAIL_FIELDS if rec.get(k) not in (None, "")},
        }
    return items_frame(rows.values())
