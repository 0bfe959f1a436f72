"""Reading raw files: gzip or plain, line-located errors, an explicit lenient mode."""

from __future__ import annotations

import codecs
import gzip
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from profilerec.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class SkipReport:
    """Counts what lenient mode skipped, by reason, so nothing is dropped silently.

    In strict mode (the default) ``lenient`` is False and every problem raises
    a :class:`DataError` naming the file and line instead.
    """

    lenient: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def problem(self, path: str | Path, reason: str, line: int | None = None) -> None:
        """Raise in strict mode; count (and remember the first location) in lenient mode."""
        if not self.lenient:
            raise DataError(path, reason, line)
        key = f"{Path(path).name}: {reason.split(':')[0]}"
        self.counts[key] += 1
        self.examples.setdefault(key, f"{path}:{line}" if line is not None else str(path))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "by_reason": dict(self.counts), "first_seen": self.examples}


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_binary(path: str | Path) -> IO[bytes]:
    """Open a plain or gzip file (detected by magic bytes, not by name) for reading bytes."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    if is_gzip(path):
        return gzip.open(path, "rb")
    return path.open("rb")


def read_bytes(path: str | Path) -> bytes:
    with open_binary(path) as fh:
        try:
            return fh.read()
        except (OSError, EOFError) as exc:
            raise DataError(path, f"cannot decompress ({exc})") from None


def iter_json_lines(path: str | Path, report: SkipReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each JSON object line; blank lines are ignored.

    Lines are decoded one at a time so a non-UTF-8 byte or a broken line is
    reported with its line number rather than as a parser offset.
    """
    path = Path(path)
    seen_any = False
    with open_binary(path) as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]  # editors on Windows write one; it is not data
            if not raw.strip():
                continue
            seen_any = True
            try:  # orjson validates UTF-8 itself; decode only to explain a failure
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as bad:
                    report.problem(path, f"not valid UTF-8 (byte {bad.start})", number)
                    continue
                report.problem(path, f"malformed JSON ({exc.msg})", number)
                continue
            if not isinstance(record, dict):
                report.problem(path, "expected a JSON object per line", number)
                continue
            yield number, record
    if not seen_any:
        raise DataError(path, "file is empty")


def missing_fields(record: dict[str, Any], required: tuple[str, ...]) -> list[str]:
    return [name for name in required if record.get(name) in (None, "")]


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
