"""The ``prepare`` stage: raw logs -> canonical dataset folder (items, interactions, examples, manifest)."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from profilerec import __version__
from profilerec.data.filters import (
    MissingMeta,
    apply_meta_policy,
    catalogue,
    collapse_duplicates,
    k_core,
)
from profilerec.data.io import sha256_file
from profilerec.data.readers import ReadOptions, get_reader
from profilerec.data.schema import EXAMPLES_FILE, INTERACTIONS_FILE, ITEMS_FILE, MANIFEST_FILE
from profilerec.data.splits import SplitConfig, make_examples
from profilerec.errors import UserError

DEMO_NAME = "amazon2023_all_beauty_5core"


@dataclass
class PrepareConfig:
    """Everything ``prepare`` needs besides the source; written into the manifest."""

    format: str = "amazon2023"
    #: Iterative k-core on users and items (0 or 1 disables it).
    k_core: int = 5
    #: Interactions whose item has no metadata: keep (placeholder text), drop, or error.
    missing_meta: MissingMeta = "keep"
    split: SplitConfig = field(default_factory=SplitConfig)
    read: ReadOptions = field(default_factory=ReadOptions)


def demo_source() -> Path:
    """The embedded All_Beauty 5-core reviews file shipped inside the package."""
    return Path(str(resources.files("profilerec.data") / "demo" / "All_Beauty.jsonl.gz"))


def prepare(source: str | Path, out: str | Path, config: PrepareConfig) -> dict[str, Any]:
    """Read ``source``, filter, split, and write the dataset folder ``out``. Returns the manifest."""
    source, out = Path(source), Path(out)
    if not source.exists():
        raise UserError(f"{source}: no such file or folder")
    started = time.perf_counter()
    raw = get_reader(config.format)(source, config.read)
    n_read = raw.interactions.height
    if n_read == 0:
        raise UserError(f"{source}: no interactions were read")
    # Filter and order on the key columns only, then gather the wide rows (review
    # text) once: copying text through every filter dominated the run time.
    keys = raw.interactions.select("user_id", "item_id", "timestamp").with_row_index("_row")
    keys = collapse_duplicates(keys)
    n_dedup = keys.height
    keys, n_missing_meta = apply_meta_policy(keys, raw.items, config.missing_meta, str(source))
    keys = k_core(keys, config.k_core)
    if keys.height == 0:
        raise UserError(
            f"no interactions left after {config.k_core}-core filtering; try a smaller --k-core"
        )
    order = keys.sort(["user_id", "timestamp", "_row"])["_row"]
    inter = raw.interactions[order]
    items = catalogue(inter, raw.items)
    examples = make_examples(inter, config.split)

    out.mkdir(parents=True, exist_ok=True)
    _write(items, out / ITEMS_FILE)
    _write(inter, out / INTERACTIONS_FILE)
    _write(examples, out / EXAMPLES_FILE)
    split_counts = dict(examples.group_by("split").len().sort("split").iter_rows())
    manifest = {
        "profilerec_version": __version__,
        "format": config.format,
        "sources": [
            {"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)}
            for p in raw.sources
        ],
        "config": dataclasses.asdict(config),
        "counts": {
            "interactions_read": n_read,
            "after_duplicate_collapse": n_dedup,
            "duplicates_collapsed": n_read - n_dedup,
            "items_without_meta": n_missing_meta,
            "interactions": inter.height,
            "users": inter["user_id"].n_unique(),
            "items": items.height,
            "items_with_meta": int(items["has_meta"].sum()),
            "examples": split_counts,
        },
        "skipped": raw.report.as_dict(),
        "seconds": round(time.perf_counter() - started, 3),
    }
    tmp = out / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=str))
    os.replace(tmp, out / MANIFEST_FILE)
    return manifest


def _write(frame: pl.DataFrame, path: Path) -> None:
    """Write then rename, so a killed run never leaves a half-written file that looks complete."""
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)
