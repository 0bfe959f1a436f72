"""The ``prepare`` stage: raw logs -> canonical dataset folder (items, interactions, examples, manifest)."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from profilerec import __version__
from profilerec.atomic import atomic_folder, check_target
from profilerec.data.filters import (
    MissingMeta,
    apply_meta_policy,
    catalogue,
    collapse_duplicates,
    k_core,
)
from profilerec.data.io import sha256_file
from profilerec.data.readers import ReadOptions, get_reader
from profilerec.data.sanity import check_interactions, check_meta, check_splits, validate_config
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
    """Read ``source``, filter, split, and write the dataset folder ``out``. Returns the manifest.

    Flags and the target folder are checked before anything is read; the folder is
    written atomically (a killed run leaves the previous dataset intact).
    """
    source, out = Path(source), Path(out)
    validate_config(config)
    reader = get_reader(config.format)
    check_target(out, MANIFEST_FILE, "profilerec dataset")
    if not source.exists():
        raise UserError(f"{source}: no such file or folder")
    started = time.perf_counter()
    raw = reader(source, config.read)
    n_read = raw.interactions.height
    if n_read == 0:
        raise UserError(f"{source}: no interactions were read")
    warnings = check_interactions(raw.interactions, config.format, str(source))
    meta_duplicates, meta_warnings = check_meta(raw.items, config.format)
    warnings += meta_warnings
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
    split_counts = dict(examples.group_by("split").len().sort("split").iter_rows())
    warnings += check_splits(split_counts, config)
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
            "meta_duplicates": meta_duplicates,
            "interactions": inter.height,
            "users": inter["user_id"].n_unique(),
            "items": items.height,
            "items_with_meta": int(items["has_meta"].sum()),
            "examples": split_counts,
        },
        "skipped": raw.report.as_dict(),
        "warnings": warnings,
    }
    with atomic_folder(out, MANIFEST_FILE, "profilerec dataset") as tmp:
        _write(items, tmp / ITEMS_FILE)
        _write(inter, tmp / INTERACTIONS_FILE)
        _write(examples, tmp / EXAMPLES_FILE)
        manifest["seconds"] = round(time.perf_counter() - started, 3)
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def _write(frame: pl.DataFrame, path: Path) -> None:
    """One file of the dataset; the whole folder is made atomic by :func:`atomic_folder`."""
    frame.write_parquet(path)
