"""Progress that works in logs as well as on a terminal.

On a terminal, ``progress_bar`` draws a rich bar on stderr. When stderr is not a terminal
(``make demo > log 2>&1``, a batch job, a pipe) rich draws nothing, so a ``LineProgress``
prints one plain line at a steady interval instead::

    profiling (zero_shot): 48/253 (19%), 2.10/s, ETA 1m37s

The interval is ``PROFILEREC_PROGRESS_SECONDS`` (default 15 s; 0 prints a line on every
step). A first line is printed at the start and a last one when the work is done (or, when
the loop stops early, e.g. on early stopping, when it leaves the ``with`` block). A step may
carry a short status (``advance(status="loss 0.4123")``), shown after the ETA, and work found
already done while running (resumed part files) is counted by ``skip`` without entering the
rate.
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
    def advance(self, n: int = 1, *, status: str | None = None) -> None: ...

    def skip(self, n: int) -> None:
        """``n`` items found already done (resumed): counted, but not in the rate."""


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
        self.status = ""
        self.started = self.last = clock()
        self._line()

    def advance(self, n: int = 1, *, status: str | None = None) -> None:
        self.done += n
        if status is not None:
            self.status = status
        now = self.clock()
        if self.done >= self.total or now - self.last >= self.interval:
            self.last = now
            self._line()

    def skip(self, n: int) -> None:
        self.done += n
        self.start_done += n
        if n and self.done >= self.total:
            self._line()

    def close(self) -> None:
        """A last line when the work stopped short of ``total`` (early stopping)."""
        if self.done < self.total:
            took = fmt_duration(self.clock() - self.started)
            print(f"{self._head()}, stopped after {took}", file=self.stream, flush=True)

    def _head(self) -> str:
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        return f"{self.description}: {self.done}/{self.total}{pct}"

    def line(self) -> str:
        elapsed = self.clock() - self.started
        fresh = self.done - self.start_done  # resumed work is not part of the rate
        text = self._head()
        status = f", {self.status}" if self.status else ""
        if self.done >= self.total:
            return f"{text}, done in {fmt_duration(elapsed)}{status}"
        if fresh <= 0 or elapsed <= 0:
            return f"{text}, started{status}"
        rate = fresh / elapsed
        eta = fmt_duration((self.total - self.done) / rate)
        return f"{text}, {fmt_rate(rate)}, ETA {eta}{status}"

    def _line(self) -> None:
        print(self.line(), file=self.stream, flush=True)


class _Quiet:
    def advance(self, n: int = 1, *, status: str | None = None) -> None:
        pass

    def skip(self, n: int) -> None:
        pass


class _RichBar:
    def __init__(self, bar: object, task: object) -> None:
        self.bar, self.task = bar, task

    def advance(self, n: int = 1, *, status: str | None = None) -> None:
        fields = {} if status is None else {"status": status}
        self.bar.update(self.task, advance=n, **fields)  # type: ignore[attr-defined]

    def skip(self, n: int) -> None:
        self.advance(n)


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress_bar(
    description: str, total: int, *, done: int = 0, enabled: bool = True
) -> Iterator[Advancer]:
    """A rich bar on a terminal, ``LineProgress`` lines otherwise, nothing when disabled."""
    with progress_tasks(enabled=enabled) as tasks:
        yield tasks.add(description, total, done=done)


class Tasks(Protocol):
    def add(self, description: str, total: int, *, done: int = 0) -> Advancer:
        """A new task's bar (its lines, in a log)."""


class _Tasks:
    """Tasks added as the work comes: bars of one rich display, or each task's own lines."""

    def __init__(self, bar: object | None, enabled: bool) -> None:
        self.bar, self.enabled = bar, enabled
        self.lines: list[LineProgress] = []

    def add(self, description: str, total: int, *, done: int = 0) -> Advancer:
        if not self.enabled:
            return _Quiet()
        if self.bar is None:
            self.lines.append(LineProgress(description, total, done=done))
            return self.lines[-1]
        add = self.bar.add_task  # type: ignore[attr-defined]
        return _RichBar(self.bar, add(description, total=total, completed=done, status=""))


@contextmanager
def progress_tasks(*, enabled: bool = True) -> Iterator[Tasks]:
    """Several bars in one display, added with ``tasks.add(description, total)``; in a log,
    each task prints its own lines (as ``progress_bar``); nothing when disabled."""
    if not enabled or not is_terminal():
        tasks = _Tasks(None, enabled)
        yield tasks
        for lines in tasks.lines:
            lines.close()
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
    status = TextColumn("{task.fields[status]}", markup=False)
    console = Console(stderr=True, markup=False)
    with Progress(*columns, TimeRemainingColumn(), status, console=console) as bar:
        yield _Tasks(bar, enabled)


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
