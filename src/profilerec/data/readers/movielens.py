"""MovieLens (GroupLens): ml-100k, ml-1m/10m and ml-latest/20m+ layouts, told apart by file names.

SOURCE is the unpacked folder (or its ratings file). Layouts:

- ml-100k: ``u.data`` (user, item, rating, seconds; tab-separated) + ``u.item``
  (pipe-separated, latin-1: id|title|release date|video date|IMDb URL|19 genre flags).
- ml-1m / ml-10m: ``ratings.dat`` (``::``-separated) + ``movies.dat`` (``id::Title::A|B``).
- ml-20m / 25m / 32m / latest: ``ratings.csv`` + ``movies.csv`` with headers.

Item files are decoded as UTF-8 line by line, falling back to latin-1: the older
releases are latin-1, the newer UTF-8, and latin-1 accepts any byte.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from profilerec.data.io import SkipReport, open_binary
from profilerec.data.readers.base import RawData, ReadOptions, interactions_frame, items_frame
from profilerec.errors import DataError, UserError

#: ml-100k genre flag order (as in its ``u.genre``), used when ``u.genre`` is absent.
GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class Layout:
    """One MovieLens release family: its file names and ratings separator."""

    name: str
    ratings: str
    movies: str
    separator: str
    header: bool


LAYOUTS = (
    Layout("ml-100k", "u.data", "u.item", "\t", header=False),
    Layout("ml-1m", "ratings.dat", "movies.dat", "::", header=False),
    Layout("ml-latest", "ratings.csv", "movies.csv", ",", header=True),
)


def read(source: Path, options: ReadOptions) -> RawData:
    if options.columns:  # fixed field names: a mapping would be silently ignored
        raise UserError("--column applies to csv, parquet and recbole sources, not movielens")
    report = SkipReport(lenient=options.lenient)
    layout, folder = detect(source)
    ratings = source if source.is_file() else folder / layout.ratings
    inter = _read_ratings(ratings, layout, report)
    movies = folder / layout.movies
    sources = [ratings]
    if movies.is_file():
        sources.append(movies)
        if layout.name == "ml-100k":
            items = _read_100k_items(movies, _genres_100k(folder), report)
        else:
            items = _read_genre_items(movies, layout, report)
    else:
        items = items_frame([])
    return RawData(inter, items, sources, report)


def detect(source: Path) -> tuple[Layout, Path]:
    """The layout, from the ratings file's name or the files present in the folder."""
    folder = source if source.is_dir() else source.parent
    for layout in LAYOUTS:
        if source.name == layout.ratings or (
            source.is_dir() and (folder / layout.ratings).is_file()
        ):
            return layout, folder
    wanted = ", ".join(layout.ratings for layout in LAYOUTS)
    raise UserError(f"{source}: not a MovieLens folder or ratings file (looked for {wanted})")


def _lines(path: Path, report: SkipReport, *, latin1: bool) -> Iterator[tuple[int, str]]:
    """Non-blank decoded lines with their numbers; raises on an empty file."""
    seen_any = False
    with open_binary(path) as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            seen_any = True
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if not latin1:
                    report.problem(path, f"not valid UTF-8 (byte {exc.start})", number)
                    continue
                text = raw.decode("latin-1")
            yield number, text.rstrip("\r\n")
    if not seen_any:
        raise DataError(path, "file is empty")


def _read_ratings(path: Path, layout: Layout, report: SkipReport) -> pl.DataFrame:
    users: list[str] = []
    items: list[str] = []
    stamps: list[int] = []
    ratings: list[float] = []
    sep = layout.separator
    shown = "tab" if sep == "\t" else repr(sep)
    expected = f"expected 4 {shown}-separated fields (user, item, rating, time)"
    for number, text in _lines(path, report, latin1=False):
        if layout.header and number == 1:
            continue
        fields = text.split(sep)
        if len(fields) < 4:
            report.problem(path, f"{expected}, got {len(fields)}", number)
            continue
        try:
            rating = float(fields[2])
            stamp = int(fields[3]) * 1000
        except ValueError:
            report.problem(path, "rating or timestamp is not a number", number)
            continue
        users.append(fields[0].strip())
        items.append(fields[1].strip())
        ratings.append(rating)
        stamps.append(stamp)
    return interactions_frame(
        {"user_id": users, "item_id": items, "timestamp": stamps, "rating": ratings}
    )


def _genres_100k(folder: Path) -> tuple[str, ...]:
    """Genre names in flag order from ``u.genre`` (``name|index``), else the published list."""
    path = folder / "u.genre"
    if not path.is_file():
        return GENRES_100K
    pairs = []
    for line in path.read_bytes().decode("latin-1").splitlines():
        name, _, index = line.strip().rpartition("|")
        if name and index.isdigit():
            pairs.append((int(index), name))
    return tuple(name for _, name in sorted(pairs)) or GENRES_100K


def _read_100k_items(path: Path, genres: tuple[str, ...], report: SkipReport) -> pl.DataFrame:
    rows = []
    n_fields = 5 + len(genres)
    for number, text in _lines(path, report, latin1=True):
        fields = text.split("|")
        if len(fields) != n_fields:
            report.problem(
                path, f"expected {n_fields} '|'-separated fields, got {len(fields)}", number
            )
            continue
        flags = fields[5:]
        details = {"release_date": fields[2].strip(), "imdb_url": fields[4].strip()}
        rows.append(
            {
                "item_id": fields[0].strip(),
                "title": fields[1],
                "categories": [
                    g for g, flag in zip(genres, flags, strict=True) if flag.strip() == "1"
                ],
                "details": {k: v for k, v in details.items() if v},
            }
        )
    return items_frame(rows)


def _read_genre_items(path: Path, layout: Layout, report: SkipReport) -> pl.DataFrame:
    """``movies.dat`` (``id::Title (1995)::A|B``) or ``movies.csv`` (quoted titles)."""
    rows: list[dict[str, Any]] = []
    for number, text in _lines(path, report, latin1=True):
        if layout.header:
            if number == 1:
                continue
            # csv handles the quoted titles ("American President, The (1995)").
            fields = next(csv.reader([text]), [])
        else:
            fields = text.split(layout.separator)
        if len(fields) != 3:
            shown = "comma" if layout.header else repr(layout.separator)
            report.problem(
                path,
                f"expected 3 {shown}-separated fields (id, title, genres), got {len(fields)}",
                number,
            )
            continue
        genres = [g for g in fields[2].split("|") if g and g != NO_GENRES]
        rows.append({"item_id": fields[0].strip(), "title": fields[1], "categories": genres})
    return items_frame(rows)
