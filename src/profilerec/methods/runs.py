"""What a profiler training run folder offers: its adapter, base model and history format.

``train --method blue|rlpf|judge`` writes ``blue_config.json``, ``train --method rft``
writes ``rft_config.json``; ``profile --adapter RUN`` reads either through these helpers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from profilerec.errors import UserError
from profilerec.profile.prompts import HistoryFormat

ADAPTER_DIR = "adapter"
BEST_DIR = "best_adapter"
CONFIG_FILES = ("blue_config.json", "rft_config.json")


def adapter_dir(run: str | Path) -> Path:
    """The adapter a run folder offers: ``best_adapter`` if validation kept one, else ``adapter``;
    refused (before any model loads) when its config is malformed or its weights not finite."""
    from profilerec.methods.finite import check_adapter

    run = Path(run)
    for cand in (run / BEST_DIR, run / ADAPTER_DIR, run):
        if (cand / "adapter_config.json").is_file():
            check_adapter(cand)  # malformed config or non-finite weights: refused here
            return cand
    raise UserError(f"{run}: no trained adapter here (expected {BEST_DIR}/ or {ADAPTER_DIR}/)")


def is_run_folder(path: str | Path) -> bool:
    return any((Path(path) / name).is_file() for name in CONFIG_FILES)


def _saved(run: str | Path) -> tuple[str, dict[str, Any]] | None:
    for name in CONFIG_FILES:
        path = Path(run) / name
        if path.is_file():
            return name, json.loads(path.read_text())
    return None


def history_format_of(run: str | Path) -> HistoryFormat | None:
    """The history format a run's prompts used (None: not a run folder)."""
    saved = _saved(run)
    if saved is None:
        return None
    name, data = saved
    if name == "rft_config.json":
        from profilerec.methods.rft.config import RFTConfig as Config
    else:
        from profilerec.methods.blue.config import BlueConfig as Config  # type: ignore[assignment]
    # An option added since the run was trained reads as its default.
    return Config(**{**Config().to_dict(), **data}).history_format()


def base_model_of(run: str | Path) -> str | None:
    """The profiler model a run was trained from (None = the bundled SmolLM2)."""
    saved = _saved(run)
    return saved[1].get("model") if saved else None
