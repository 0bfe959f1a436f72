"""Checks on the plain progress lines a stage prints when stderr is not a terminal."""

from __future__ import annotations

import re

RATE = r"[\d.]+/(s|min|h), ETA \w+"


def progress_lines(err: str, description: str) -> list[str]:
    """The lines of ``description``'s progress in ``err`` (a captured stderr)."""
    return [ln for ln in err.splitlines() if ln.startswith(f"{description}: ")]


def check_lines(
    err: str, description: str, total: int, *, done: int = 0, status: str = ""
) -> list[str]:
    """Lines ``DESC: done/total (pct%), started`` first, then ``N/total (pct%), rate, ETA``
    and last ``total/total (100%), done in ...`` (``status``: a regex after each but the
    first); at least one line between. Returns the lines."""
    lines = progress_lines(err, description)
    head = re.escape(description) + r": (\d+)/" + str(total) + r" \(\d+%\)"
    tail = f", {status}" if status else ""
    assert lines, f"no progress lines of {description!r} in:\n{err}"
    assert re.fullmatch(head + ", started", lines[0]), lines
    assert int(re.match(head, lines[0]).group(1)) == done, lines  # type: ignore[union-attr]
    assert len(lines) >= 3, lines
    counts = []
    for line in lines[1:-1]:
        m = re.fullmatch(head + ", " + RATE + tail, line)
        assert m, f"{line!r} does not look like progress"
        counts.append(int(m.group(1)))
    assert counts == sorted(counts) and all(done < c < total for c in counts), lines
    assert re.fullmatch(head + r", done in \w+" + tail, lines[-1]), lines
    assert lines[-1].startswith(f"{description}: {total}/{total} (100%)"), lines
    return lines
