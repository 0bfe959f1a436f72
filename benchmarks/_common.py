"""Shared helpers for benchmark scripts: machine facts, versions, child runs, docs sections.

Standard library only, so importing it never inflates a measured child's memory.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
DOC_INTRO = """# Benchmarks

Each section below is written by a script in `benchmarks/` and replaced in place when
that script runs again, so the figures always come with the date, machine, library
versions and exact command that produced them. Rerun a section with the command it
shows; do not edit the text between the `bench:` markers by hand.
"""


@dataclass
class ChildRun:
    """One measured child process."""

    #: Wall-clock seconds from spawn to exit (includes interpreter start and imports).
    wall_seconds: float
    #: User + system CPU seconds of the child: less sensitive than wall time to other
    #: processes sharing the cores, but it counts every thread, so parallel code pays more.
    cpu_seconds: float
    #: The child's own peak resident set size (VmHWM), in bytes.
    peak_rss_bytes: int
    returncode: int
    stdout: str


def run_child(argv: Sequence[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run ``argv`` in a fresh process and measure its own peak RSS.

    ``os.wait4`` returns the resource usage of that one child, unlike
    ``getrusage(RUSAGE_CHILDREN)``, which is the maximum over every child reaped so far
    and would hide a smaller second run behind a bigger first one.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        wall_seconds=time.perf_counter() - started,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=usage.ru_maxrss * 1024,  # ru_maxrss is in KiB on Linux
        returncode=proc.returncode,
        stdout=stdout,
    )


def machine() -> dict[str, str]:
    """Cores, RAM, CPU model, OS and the load when the run started (others may share the box)."""
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "cpu": model.group(1).strip() if model else platform.processor() or "unknown",
        "cores": f"{usable} usable ({os.cpu_count()} online)",
        "ram": f"{int(meminfo.group(1)) / 2**20:.1f} GiB" if meminfo else "unknown",
        "os": platform.platform(),
        "load average at start (1, 5, 15 min)": load,
    }


def memory_available() -> int | None:
    """Bytes the kernel estimates are available to a new process (None when unknown)."""
    found = re.search(r"^MemAvailable:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    return int(found.group(1)) * 1024 if found else None


def versions(packages: Sequence[str]) -> dict[str, str]:
    """Python and the installed version of each distribution (``"not installed"`` if absent)."""
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def command_line() -> str:
    """The command as typed (interpreter included), with paths made relative to the repo root.

    ``abspath`` rather than ``resolve``: the venv's python is a symlink that should stay.
    """
    args = list(sys.orig_argv)
    for i, arg in enumerate(args):
        if arg.startswith("-") or not os.path.exists(arg):
            continue
        path = Path(os.path.abspath(arg))
        if path.is_relative_to(REPO):
            args[i] = str(path.relative_to(REPO))
    return shlex.join(args)


def today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    numeric = [
        any(row[i] for row in cells) and all(_looks_numeric(row[i]) for row in cells if row[i])
        for i in range(len(headers))
    ]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def facts_list(facts: dict[str, str]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in facts.items())


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace the ``<!-- bench:name -->`` section of ``doc`` with ``body`` (append if absent)."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = doc.read_text() if doc.exists() else DOC_INTRO
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        # A function replacement, so backslashes in ``block`` are not read as group references.
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    tmp = doc.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, doc)


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _looks_numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,]*\.?\d+\s*(x|%|s|[KMG]iB|B)?", cell))


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
