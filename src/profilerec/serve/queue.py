"""A bounded queue for generation, run off the event loop in one worker thread.

One worker because a CPU generator already uses every core; a bound because an
unbounded backlog only turns into timeouts: past it the route answers 503 at once,
with a Retry-After estimated from the recent generation time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class QueueFull(Exception):
    """Raised by ``submit`` when ``capacity`` jobs are already waiting or running."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"generation queue is full; retry after {retry_after} s")
        self.retry_after = retry_after


class GenerationQueue:
    def __init__(self, capacity: int = 4) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.pending = 0
        self.done = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate")
        self._mean_s = 2.0  # a first guess until a job has finished

    def retry_after(self) -> int:
        return max(1, math.ceil(self._mean_s * self.pending))

    async def submit(self, fn: Callable[..., T], *args: object) -> T:
        # Only the event loop thread touches ``pending``, so no lock is needed.
        if self.pending >= self.capacity:
            raise QueueFull(self.retry_after())
        self.pending += 1
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._timed, fn, args
            )
            self.done += 1
            return result
        finally:
            self.pending -= 1

    def _timed(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        start = time.perf_counter()  # timed in the worker: excludes the wait behind other jobs
        try:
            return fn(*args)
        finally:
            self._mean_s = 0.7 * self._mean_s + 0.3 * (time.perf_counter() - start)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
