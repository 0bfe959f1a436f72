"""(reader, prompt) -> answer cache on disk, so a re-run of ``qa`` costs no forward pass.

Same design as ``profilerec.embed.cache``: stdlib sqlite3 in WAL mode, one file per reader
model id, rows ``sha256(kind, prompt, continuation) -> JSON``; appends never rewrite old rows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from profilerec.embed.cache import LOOKUP_CHUNK, cache_file
from profilerec.errors import UserError

_SCHEMA = "CREATE TABLE IF NOT EXISTS answers (key BLOB PRIMARY KEY, value TEXT NOT NULL);"


def answer_key(*parts: str) -> bytes:
    return hashlib.sha256(json.dumps(parts).encode("utf-8", "surrogatepass")).digest()


class AnswerCache:
    def __init__(self, cache_dir: Path, model_id: str) -> None:
        self.path = cache_file(Path(cache_dir), model_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=60)
        except sqlite3.Error as exc:
            raise UserError(f"cannot open QA cache {self.path}: {exc}") from exc
        with closing(conn):
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            yield conn

    def get(self, keys: list[bytes]) -> dict[bytes, Any]:
        unique = list(dict.fromkeys(keys))
        found: dict[bytes, Any] = {}
        with self._connect() as db:
            for start in range(0, len(unique), LOOKUP_CHUNK):
                chunk = unique[start : start + LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, value in db.execute(
                    f"SELECT key, value FROM answers WHERE key IN ({marks})", chunk
                ):
                    found[key] = json.loads(value)
        self.hits += sum(k in found for k in keys)
        self.misses += sum(k not in found for k in keys)
        return found

    def put(self, items: dict[bytes, Any]) -> None:
        rows = [(k, json.dumps(v)) for k, v in items.items()]
        with self._connect() as db, db:
            db.executemany("INSERT OR REPLACE INTO answers (key, value) VALUES (?, ?)", rows)
