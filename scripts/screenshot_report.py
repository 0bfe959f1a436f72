#!/usr/bin/env python
"""Screenshot a profilerec HTML report in headless Chromium and list any console messages.

Usage: scripts/screenshot_report.py REPORT.html OUT.png [--width 1280] [--height 2000]
Exits 1 when the page logged anything to the console (the report has no scripts, so
any message is a problem), 2 on a usage or rendering error.
"""

from __future__ import annotations

import argparse
import sys

from profilerec.errors import UserError
from profilerec.report.chromium import screenshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="the report HTML file")
    parser.add_argument("out", help="where to write the PNG")
    parser.add_argument("--width", type=int, default=1280, help="window width in pixels")
    parser.add_argument("--height", type=int, default=2000, help="window height in pixels")
    parser.add_argument("--chromium", default=None, help="Chromium binary (default: from PATH)")
    args = parser.parse_args(argv)
    try:
        shot = screenshot(
            args.report, args.out, chromium=args.chromium, width=args.width, height=args.height
        )
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {shot.png} ({shot.png.stat().st_size:,} bytes)")
    for line in shot.console:
        print(f"console: {line}", file=sys.stderr)
    return 1 if shot.console else 0


if __name__ == "__main__":
    sys.exit(main())
