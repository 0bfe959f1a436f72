"""The report renders in headless Chromium: a real screenshot and a clean console."""

from __future__ import annotations

from pathlib import Path

import pytest

from profilerec.report.chromium import console_lines, find_chromium, screenshot

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary on PATH (expected /usr/bin/chromium)"
)


@needs_chromium
def test_report_renders_without_console_messages(full_report: Path, tmp_path: Path) -> None:
    shot = screenshot(full_report, tmp_path / "report.png", width=1280, height=2000)
    assert shot.console == [], shot.console
    assert shot.png.stat().st_size > 20_000  # a blank 1280x2000 page compresses to a few kB
    from PIL import Image

    with Image.open(shot.png) as image:
        assert image.size == (1280, 2000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    # None means more than 65536 colours; otherwise text and plots give hundreds at least.
    assert colours is None or len(colours) > 100


@needs_chromium
def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The check above can fail: a page with a script error is caught."""
    page = tmp_path / "bad.html"
    page.write_text("<p>x</p><script>console.log('hello'); throw new Error('boom');</script>")
    shot = screenshot(page, tmp_path / "bad.png", width=320, height=200)
    assert len(shot.console) == 2
    assert '"hello"' in shot.console[0] and "Uncaught Error: boom" in shot.console[1]


def test_console_line_formats() -> None:
    log = "\n".join(
        [
            "[1:1:1121/1.0:ERROR:dbus/bus.cc:405] Failed to connect to the bus",
            '[1:1:1121/1.1:INFO:CONSOLE(12)] "Uncaught TypeError: x", source: file:///r.html (12)',
            '[1:1:1121/1.2:INFO:CONSOLE:3] "warn", source: file:///r.html (3)',
        ]
    )
    assert [line.split("] ")[1].split(",")[0] for line in console_lines(log)] == [
        '"Uncaught TypeError: x"',
        '"warn"',
    ]
