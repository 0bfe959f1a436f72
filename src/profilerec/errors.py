"""Errors a user can fix. The CLI prints these as one line, never a traceback."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in the user's input, flags or environment, with a message that says how to fix it."""


class DataError(UserError):
    """A problem in an input file, located by file and (when known) line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
