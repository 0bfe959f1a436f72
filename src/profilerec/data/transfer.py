"""Progress of one file transfer: bytes, size and speed, on a terminal or in a log.

``progress.py`` counts items; a download wants bytes shown as MiB and a speed in MiB/s.
On a terminal this is a rich bar with rich's download columns; elsewhere one line every
``PROFILEREC_PROGRESS_SECONDS`` (the same interval as every other progress line)::

    All_Beauty.jsonl.gz: 12.0 MiB/310.5 MiB (4%), 5.2 MiB/s, ETA 57s
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

from profilerec.progress import fmt_duration, interval_seconds, is_terminal


def fmt_bytes(n: float) -> str:
    """``512 B``, ``3.4 KiB``, ``12.0 MiB``, ``1.2 GiB``."""
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class TransferProgress:
    """A context manager with ``advance(nbytes)``; ``done`` bytes were there before it began."""

    def __init__(
        self,
        name: str,
        total: int | None,
        done: int = 0,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval: float | None = None,
    ) -> None:
        self.name, self.total, self.done, self.start_done = name, total, done, done
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.interval = interval_seconds() if interval is None else interval
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> TransferProgress:
        self.started = self.last = time.monotonic()
        if not self.enabled:
            return self
        if is_terminal(self.stream):
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(binary_units=True),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream, markup=False),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.name, total=self.total, completed=self.done)
        else:
            self._line()
        return self

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.advance(self._task, n)
            return
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self._line()

    def line(self) -> str:
        """The plain progress line for the current state."""
        size = f"/{fmt_bytes(self.total)}" if self.total else ""
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        text = f"{self.name}: {fmt_bytes(self.done)}{size}{pct}"
        elapsed = time.monotonic() - self.started
        fresh = self.done - self.start_done  # resumed bytes are not part of the speed
        if fresh <= 0 or elapsed <= 0:
            return f"{text}, resuming" if self.done else f"{text}, started"
        speed = fresh / elapsed
        if self.total and self.done >= self.total:
            return f"{text}, {fmt_bytes(speed)}/s, done in {fmt_duration(elapsed)}"
        eta = f", ETA {fmt_duration((self.total - self.done) / speed)}" if self.total else ""
        return f"{text}, {fmt_bytes(speed)}/s{eta}"

    def _line(self) -> None:
        print(self.line(), file=self.stream, flush=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.__exit__(kind, exc, tb)
        elif kind is None:
            self._line()
