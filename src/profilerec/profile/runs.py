"""What a profiler training run folder offers: its adapter, base model and history format.

``train --method blue|rlpf|judge`` writes ``blue_config.json``, ``train --method rft``
writes ``rft_config.json``; ``Profiler.from_run`` and ``profile --adapter RUN`` read either
through :class:`ProfilerRun`. This sits in ``profile/`` (below ``methods/``) because
profiling with a trained adapter is a profile concern: the readers never import the
trainers, so the core and the CLI can load a run without reaching up into ``methods/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from profilerec.errors import UserError
from profilerec.profile.prompts import HistoryFormat

ADAPTER_DIR = "adapter"
BEST_DIR = "best_adapter"
CONFIG_FILES = ("blue_config.json", "rft_config.json")
#: The run-config keys of the history format, by ``HistoryFormat`` field.
_HISTORY_KEYS = {
    "max_items": "history_items",
    "item_chars": "history_item_chars",
    "snippet_chars": "history_snippet_chars",
}


def adapter_dir(run: str | Path) -> Path:
    """The adapter a run folder offers: ``best_adapter`` if validation kept one, else ``adapter``;
    refused (before any model loads) when its config is malformed or its weights not finite."""
    from profilerec.profile.finite import check_adapter

    run = Path(run)
    for cand in (run / BEST_DIR, run / ADAPTER_DIR, run):
        if (cand / "adapter_config.json").is_file():
            check_adapter(cand)  # malformed config or non-finite weights: refused here
            return cand
    raise UserError(f"{run}: no trained adapter here (expected {BEST_DIR}/ or {ADAPTER_DIR}/)")


def is_run_folder(path: str | Path) -> bool:
    return any((Path(path) / name).is_file() for name in CONFIG_FILES)


def _saved(run: str | Path) -> dict[str, Any] | None:
    for name in CONFIG_FILES:
        path = Path(run) / name
        if path.is_file():
            data = json.loads(path.read_text())
            return data if isinstance(data, dict) else {}
    return None


def history_format_of(run: str | Path) -> HistoryFormat | None:
    """The history format a run's prompts used (None: not a run folder).

    Both trainers write every option, so the run's own values are read. A run saved before
    the history options existed (BLUE before 2026-12-03) was trained on the one format of
    that time, ``HistoryFormat()``: that, not today's trainer default, fills a missing key.
    """
    data = _saved(run)
    if data is None:
        return None
    fmt = HistoryFormat()
    values = {f: int(data[k]) for f, k in _HISTORY_KEYS.items() if data.get(k) is not None}
    fmt = replace(fmt, **values)
    if fmt.max_items < 1 or fmt.item_chars < 1 or fmt.snippet_chars < 0:
        raise UserError(
            f"{run}: history_items and history_item_chars must be >= 1, history_snippet_chars >= 0"
        )
    return fmt


def base_model_of(run: str | Path) -> str | None:
    """The profiler model a run was trained from (None = the bundled SmolLM2)."""
    data = _saved(run)
    return data.get("model") if data else None


@dataclass(frozen=True)
class ProfilerRun:
    """A trained profiler as ``--adapter`` names it: the run folder, or its ``adapter``/
    ``best_adapter`` folder. Reading one loads no model, so every check it offers runs
    before the (slow) generator load."""

    #: The path as given (a run folder or an adapter folder).
    path: Path
    #: The run folder: the one holding the run's config and ``exposure.parquet``.
    folder: Path

    @classmethod
    def read(cls, path: str | Path) -> ProfilerRun:
        path = Path(path)
        return cls(path, path if is_run_folder(path) else path.parent)

    @property
    def trained_history(self) -> HistoryFormat | None:
        """The history format the run trained on (None: no run config beside the adapter)."""
        return history_format_of(self.folder)

    def history_format(
        self,
        *,
        max_items: int | None = None,
        item_chars: int | None = None,
        snippet_chars: int | None = None,
    ) -> HistoryFormat:
        """The run's format (a profiler must be asked as it was trained), options given
        here winning; the default format when the run records none."""
        fmt = self.trained_history or HistoryFormat()
        given = {"max_items": max_items, "item_chars": item_chars, "snippet_chars": snippet_chars}
        return replace(fmt, **{k: v for k, v in given.items() if v is not None})

    def check_exposure(self, examples: pl.DataFrame, *, allow: bool = False) -> str:
        """Refuse examples the run trained on (``profile/exposure.py``); a note on those that
        picked its step ("" when none did)."""
        from profilerec.profile.exposure import check_exposure

        return check_exposure(self.path, examples, allow=allow)
