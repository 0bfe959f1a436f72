"""Progress that works in logs as well as on a terminal.

On a terminal, ``progress_bar`` draws a rich bar on stderr. When stderr is not a terminal
(``make demo > log 2>&1``, a batch job, a pipe) rich draws nothing, so a ``LineProgress``
prints one plain line at a steady interval instead::

    profiling (zero_shot): 48/253 (19%), 2.10/s, ETA 1m37s

The interval is ``PROFILEREC_PROGRESS_SECONDS`` (default 15 s; 0 prints a line on every
step). A first line is printed at the start and a last one when the work is done.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

INTERVAL_ENV = "PROFILEREC_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 15.0


class Advancer(Protocol):
    def advance(self, n: int = 1) -> None: ...


def interval_seconds() -> float:
    """The line interval from the environment; an unreadable value falls back to the default."""
    raw = os.environ.get(INTERVAL_ENV, "")
    try:
        return max(0.0, float(raw)) if raw.strip() else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


def fmt_duration(seconds: float) -> str:
    """``1h02m``, ``3m07s``, ``42s``."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def fmt_rate(per_second: float) -> str:
    """Items per second, or per minute / hour when slower than one a second."""
    if per_second >= 1 or per_second == 0:
        return f"{per_second:.2f}/s"
    if per_second * 60 >= 1:
        return f"{per_second * 60:.2f}/min"
    return f"{per_second * 3600:.2f}/h"


class LineProgress:
    """done/total, rate and ETA as plain lines, at most one per ``interval`` seconds."""

    def __init__(
        self,
        description: str,
        total: int,
        *,
        done: int = 0,
        interval: float | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.description, self.total = description, total
        self.interval = interval_seconds() if interval is None else interval
        self.stream = stream or sys.stderr
        self.clock = clock
        self.done = self.start_done = done
        self.started = self.last = clock()
        self._line()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if self.done >= self.total or now - self.last >= self.interval:
            self.last = now
            self._line()

    def line(self) -> str:
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        elapsed = self.clock() - self.started
        fresh = self.done - self.start_done  # resumed work is not part of the rate
        text = f"{self.description}: {self.done}/{self.total}{pct}"
        if self.done >= self.total:
            return f"{text}, done in {fmt_duration(elapsed)}"
        if fresh <= 0 or elapsed <= 0:
            return f"{text}, started"
        rate = fresh / elapsed
        return f"{text}, {fmt_rate(rate)}, ETA {fmt_duration((self.total - self.done) / rate)}"

    def _line(self) -> None:
        print(self.line(), file=self.stream, flush=True)


class _Quiet:
    def advance(self, n: int = 1) -> None:
        pass


class _RichBar:
    def __init__(self, bar: object, task: object) -> None:
        self.bar, self.task = bar, task

    def advance(self, n: int = 1) -> None:
        self.bar.advance(self.task, n)  # type: ignore[attr-defined]


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress_bar(
    description: str, total: int, *, done: int = 0, enabled: bool = True
) -> Iterator[Advancer]:
    """A rich bar on a terminal, ``LineProgress`` lines otherwise, nothing when disabled."""
    if not enabled:
        yield _Quiet()
        return
    if not is_terminal():
        yield LineProgress(description, total, done=done)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    console = Console(stderr=True, markup=False)
    with Progress(*columns, TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(description, total=total, completed=done)
        yield _RichBar(bar, task)


@contextmanager
def step(description: str, *, enabled: bool = True) -> Iterator[None]:
    """A spinner on a terminal; in a log, a line when the step starts and one when it ends."""
    if not enabled:
        yield
        return
    if is_terminal():
        from rich.console import Console

        with Console(stderr=True, markup=False).status(description):
            yield
        return
    started = time.monotonic()
    print(f"{description} ...", file=sys.stderr, flush=True)
    yield
    took = fmt_duration(time.monotonic() - started)
    print(f"{description}: done in {took}", file=sys.stderr, flush=True)
