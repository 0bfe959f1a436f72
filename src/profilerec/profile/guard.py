"""A rerun of ``profile`` over a folder that holds profiles resumes that set or is refused.

Write rule 3 (``profilerec/outputs.py``): ``profile --out P --limit 3`` over a full set once
replaced ``profiles.parquet`` with three rows. A rerun may extend the set (more splits, a
larger ``--limit``) or finish it; one that would drop rows, or write them with other
settings, needs ``--overwrite``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from profilerec.errors import UserError

PROFILES_FILE = "profiles.parquet"
CONFIG_FILE = "profile_config.json"
#: Settings that may change between a run and its resumption (they widen or narrow the
#: examples, which the row check covers); every other setting must match.
_FREE = ("splits", "limit", "batch_size")


def check_rerun(
    out_dir: str | Path, example_ids: pl.Series, record: dict[str, Any], overwrite: bool
) -> None:
    """Refuse to replace ``out_dir``'s profiles with a set that drops rows or differs in
    settings. ``record``: this run's ``profile_config.json`` (without ``model_id`` until the
    generator is known); a setting is compared only when both records hold it."""
    out_dir = Path(out_dir)
    path = out_dir / PROFILES_FILE
    if overwrite or not path.is_file():
        return
    try:
        old_ids = pl.read_parquet(path, columns=["example_id"])["example_id"]
    except Exception:  # unreadable or not a profiles file: not ours to replace silently
        raise UserError(
            f"{path} is not a readable profiles file; refusing to replace it: "
            "choose another --out or pass --overwrite"
        ) from None
    dropped = old_ids.filter(~old_ids.is_in(example_ids.implode())).len()
    if dropped:
        raise UserError(
            f"{out_dir} holds {old_ids.len()} profiles, {dropped} of them of examples this run "
            "would drop (another --split or a smaller --limit); rerun with the same options to "
            "resume, choose another --out, or pass --overwrite"
        )
    differ = _changed(out_dir / CONFIG_FILE, record)
    if differ:
        raise UserError(
            f"{out_dir} holds profiles written with other settings ({', '.join(differ)}); "
            "choose another --out, or pass --overwrite to replace them"
        )


def _changed(config_path: Path, record: dict[str, Any]) -> list[str]:
    """The settings of ``record`` that differ from the stored config (all, if unreadable)."""
    new = json.loads(json.dumps(record, default=str))
    try:
        old = json.loads(config_path.read_text())
    except (OSError, ValueError):
        what = "unreadable" if config_path.exists() else "missing: not written by `profile`"
        return [f"profile_config.json {what}"]
    if not isinstance(old, dict):
        return ["profile_config.json unreadable"]
    return [k for k in new if k not in _FREE and k in old and _differs(old[k], new[k])]


def _differs(old: Any, new: Any) -> bool:
    """Whether a setting changed; an option added since the old run was written (absent from
    its record) is not a change, so an upgrade does not block resuming."""
    if isinstance(old, dict) and isinstance(new, dict):
        return any(_differs(old[k], new[k]) for k in new if k in old)
    return bool(old != new)
