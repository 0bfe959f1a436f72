"""On-disk embedding cache, so re-embedding the same catalogue or profiles costs nothing.

Storage is stdlib ``sqlite3``, one file per model id, rows ``sha256(text) -> float32 bytes``:
no extra dependency, WAL mode lets any number of readers run beside one writer (parallel
runs share a cache safely), and appending new rows never rewrites old ones (unlike .npy/.npz).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from profilerec.embed.base import Embedder
from profilerec.embed.validate import check_texts
from profilerec.errors import DataError, UserError

#: Keys per ``IN (...)`` lookup: far below SQLite's bound-parameter limit (999 on old builds).
LOOKUP_CHUNK = 500
# A rowid table, not WITHOUT ROWID: vectors are kilobytes, and WITHOUT ROWID tables store such
# rows inside the key's b-tree, which more than doubled the file size in a measurement.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL);
"""


def text_key(text: str) -> bytes:
    """The cache key of a text: its SHA-256 over UTF-8 (32 bytes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def cache_file(cache_dir: Path, model_id: str) -> Path:
    """The SQLite file for one model id: a readable prefix plus a hash of the full id."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[-48:].strip("_.")
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{readable}-{digest}.sqlite"


class CachedEmbedder:
    """Wraps an Embedder with a persistent cache keyed by (``model_id``, SHA-256 of the text).

    ``hits`` and ``misses`` count input rows found / not found on disk since construction (a
    text repeated within one call counts once per row but is embedded once).
    """

    def __init__(self, inner: Embedder, cache_dir: Path, *, write_every: int = 4096) -> None:
        if write_every < 1:
            raise UserError(f"write_every must be at least 1, got {write_every}")
        self.inner = inner
        #: Misses embedded per inner call and committed together.
        self.write_every = write_every
        self.model_id: str = inner.model_id
        self.path = cache_file(Path(cache_dir), self.model_id)
        self.hits = 0
        self.misses = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot create embedding cache folder {self.path.parent}: {exc}"
            ) from exc
        with self._connect() as db:
            self._check_meta(db)

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """A ``[len(texts), dim]`` float32 array; only texts not on disk reach the inner embedder."""
        texts = check_texts(texts)
        keys = [text_key(t) for t in texts]
        with self._connect() as db:
            found = self._lookup(db, keys)
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        pending = list(todo.items())
        # Stored chunk by chunk, so an interrupted run over a large catalogue keeps its work.
        for start in range(0, len(pending), self.write_every):
            chunk = pending[start : start + self.write_every]
            fresh = np.asarray(self.inner.embed([t for _, t in chunk], progress=progress))
            if fresh.shape != (len(chunk), self.dim):
                raise UserError(
                    f"embedder {self.model_id} returned shape {fresh.shape} for "
                    f"{len(chunk)} texts, expected ({len(chunk)}, {self.dim})"
                )
            fresh = fresh.astype("<f4", copy=False)
            rows = [(k, row.tobytes()) for (k, _), row in zip(chunk, fresh, strict=True)]
            with self._connect() as db, db:  # one transaction per chunk
                db.executemany("INSERT OR IGNORE INTO vectors (key, vec) VALUES (?, ?)", rows)
            found.update({k: row for (k, _), row in zip(chunk, fresh, strict=True)})
        n_hit = sum(1 for k in keys if k not in todo)
        self.hits += n_hit
        self.misses += len(keys) - n_hit
        out = np.empty((len(keys), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A short-lived connection per call: sqlite3 connections are tied to the thread that made
        # them, and opening one costs microseconds. timeout waits out another process's write.
        try:
            conn = sqlite3.connect(self.path, timeout=60)
        except sqlite3.Error as exc:
            raise UserError(f"cannot open embedding cache {self.path}: {exc}") from exc
        with closing(conn):
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                yield conn
            except sqlite3.OperationalError as exc:
                raise UserError(
                    f"embedding cache {self.path} is busy or not writable: {exc}"
                ) from exc
            except sqlite3.DatabaseError as exc:
                raise DataError(
                    self.path, f"embedding cache is unreadable ({exc}); delete the file"
                ) from exc

    def _check_meta(self, db: sqlite3.Connection) -> None:
        """Guards against two model ids sharing one file (a hash prefix collision or a rename)."""
        with db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('model_id', ?)", (self.model_id,))
        stored = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if stored["model_id"] != self.model_id:
            raise DataError(self.path, f"cache holds {stored['model_id']!r}, not {self.model_id!r}")

    def _lookup(self, db: sqlite3.Connection, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        unique = list(dict.fromkeys(keys))
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[start : start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk)
            for key, blob in rows:
                vec = np.frombuffer(blob, dtype="<f4")
                if vec.shape[0] != self.dim:
                    raise DataError(
                        self.path,
                        f"cached vector has {vec.shape[0]} dims but {self.model_id} gives "
                        f"{self.dim}; delete the file",
                    )
                found[key] = vec
        return found
