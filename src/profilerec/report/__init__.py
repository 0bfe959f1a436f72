"""The self-contained HTML report of an evaluation (and training) run."""

from __future__ import annotations

from profilerec.report.build import build_from_dirs, load_train_log
from profilerec.report.html import write_report

__all__ = ["build_from_dirs", "load_train_log", "write_report"]
