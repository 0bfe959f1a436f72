"""Source formats. Each module exposes ``read(source, options) -> RawData``; imported lazily."""

from __future__ import annotations

import importlib
from typing import cast

from profilerec.data.readers.base import RawData, Reader, ReadOptions
from profilerec.errors import UserError

FORMATS: dict[str, str] = {
    "amazon2023": "amazon2023",
    "amazon2018": "amazon2018",
    "amazon2014": "amazon2018",
    "google_local": "google_local",
    "movielens": "movielens",
    "recbole": "recbole",
    "minionerec": "minionerec",
    "lcrec": "lcrec",
    "csv": "tabular",
    "parquet": "tabular",
}


def get_reader(fmt: str) -> Reader:
    """The reader for a format name, or a UserError listing the valid names."""
    module = FORMATS.get(fmt)
    if module is None:
        raise UserError(f"unknown format {fmt!r}; choose one of: {', '.join(sorted(FORMATS))}")
    return cast(Reader, importlib.import_module(f"profilerec.data.readers.{module}").read)


__all__ = ["FORMATS", "RawData", "ReadOptions", "Reader", "get_reader"]
