"""Render a report in headless Chromium: a screenshot plus any console messages.

The report has no scripts, so any console line (a blocked resource, a script error)
means something leaked into the page. Used by the tests and ``scripts/screenshot_report.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from profilerec.errors import UserError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
# Chromium logs page console output as `INFO:CONSOLE(12)] "..."` (older) or
# `INFO:CONSOLE:12] "..."` (newer), uncaught exceptions with the text "Uncaught".
_CONSOLE = re.compile(r"CONSOLE[(:]\d+|Uncaught")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


@dataclass(frozen=True)
class Screenshot:
    png: Path
    #: Console lines the page produced (empty for a clean report).
    console: list[str]
    #: Chromium's whole stderr, for debugging.
    log: str


def find_chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def console_lines(log: str) -> list[str]:
    return [line.strip() for line in log.splitlines() if _CONSOLE.search(line)]


def screenshot(
    html: str | Path,
    png: str | Path,
    *,
    chromium: str | None = None,
    width: int = 1280,
    height: int = 2000,
    timeout: float = 120.0,
) -> Screenshot:
    """Load ``html`` from disk in a fresh throwaway profile and save a ``width x height`` PNG."""
    html, png = Path(html).resolve(), Path(png).resolve()
    if not html.is_file():
        raise UserError(f"{html}: no such file")
    binary = chromium or find_chromium()
    if binary is None:
        raise UserError("no Chromium found; install `chromium` or pass its path")
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="profilerec-chromium-") as profile:
        cmd = [
            binary,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            html.as_uri(),
        ]
        # Own process group: on a timeout the browser's helper processes go too.
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise UserError(
                f"Chromium did not finish rendering {html} in {timeout:.0f} s"
            ) from None
    if proc.returncode != 0 or not png.is_file():
        tail = "\n".join((err or out).strip().splitlines()[-5:])
        raise UserError(f"Chromium failed on {html} (exit {proc.returncode}): {tail}")
    return Screenshot(png=png, console=console_lines(err), log=err)
