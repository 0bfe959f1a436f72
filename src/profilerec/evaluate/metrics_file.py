"""An evaluation's ``metrics.json``: its name, the dataset fingerprint it records, and
reading an earlier one back (``--tuning-from``, ``serve --evaluation``).

Torch-free, unlike ``evaluate.stage``: ``profilerec serve`` checks ``--evaluation`` with it
before its port binds, and loads the models after.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilerec.errors import UserError

if TYPE_CHECKING:
    from profilerec.data.dataset import Dataset

METRICS_FILE = "metrics.json"


def dataset_fingerprint(ds: Dataset) -> str:
    """What identifies a prepared dataset across re-prepares: its sources, config and counts."""
    import hashlib

    keys = {k: ds.manifest.get(k) for k in ("format", "sources", "config", "counts")}
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode()).hexdigest()[:16]


def read_metrics_of(ds: Dataset, source: str | Path, option: str) -> tuple[Path, dict[str, Any]]:
    """An earlier evaluation's metrics.json (``source``: its folder or the file), checked to
    be of ``ds``; errors name ``option``, the flag that gave it."""
    path = Path(source)
    path = path / METRICS_FILE if path.is_dir() else path
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{option} {source}: cannot read {path} ({exc})") from None
    if not isinstance(earlier, dict) or not isinstance(earlier.get("metrics"), dict):
        raise UserError(f"{option} {source}: {path} is not an evaluate metrics.json")
    print_ = earlier.get("dataset_fingerprint")
    if earlier.get("n_items") != len(ds.item_ids) or (print_ and print_ != dataset_fingerprint(ds)):
        raise UserError(f"{option} {source}: that evaluation was of another dataset")
    return path, earlier
