"""The ``prepare`` stage: raw logs -> canonical dataset folder (items, interactions, examples, manifest)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from profilerec import __version__
from profilerec.atomic import atomic_folder, check_target
from profilerec.data.filters import (
    apply_meta_policy,
    catalogue,
    collapse_duplicates,
    k_core,
)
from profilerec.data.io import is_gzip, sha256_file
from profilerec.data.prepare_config import PrepareConfig  # re-exported: its old home
from profilerec.data.readers import get_reader
from profilerec.data.sanity import (
    check_meta,
    check_splits,
    frame_stats,
    stats_warnings,
    validate_config,
)
from profilerec.data.schema import EXAMPLES_FILE, INTERACTIONS_FILE, ITEMS_FILE, MANIFEST_FILE
from profilerec.data.splits import make_examples
from profilerec.errors import UserError

DEMO_NAME = "amazon2023_all_beauty_5core"


#: Reviews files larger than this go through the streaming engine under ``engine="auto"``:
#: the in-memory path peaks at about 2.7x the JSONL size (4.0 GiB for 1.5 GiB).
STREAMING_ABOVE = 3 * 1024**3
GZIP_RATIO = 4
ENGINES = ("auto", "memory", "streaming")


def demo_source() -> Path:
    """The embedded All_Beauty 5-core reviews file shipped inside the package."""
    return Path(str(resources.files("profilerec.data") / "demo" / "All_Beauty.jsonl.gz"))


def prepare(
    source: str | Path,
    out: str | Path,
    config: PrepareConfig,
    progress: Callable[[str], None] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Read ``source``, filter, split, and write the dataset folder ``out``. Returns the manifest.

    Flags and the target folder are checked before anything is read; the folder is
    written atomically (a killed run leaves the previous dataset intact). A folder that
    is not a dataset, or a dataset holding other stages' outputs (profiles, evaluations
    written inside it before the write rules), is replaced only with ``overwrite``: the
    swap deletes everything in it. ``progress`` receives the name of each long phase.
    """
    source, out = Path(source), Path(out)
    validate_config(config)
    reader = get_reader(config.format)
    check_target(out, MANIFEST_FILE, "profilerec dataset", overwrite=overwrite)
    if not source.exists():
        raise UserError(f"{source}: no such file or folder")
    engine = choose_engine(source, config)
    say = progress or (lambda _: None)
    started = time.perf_counter()
    with atomic_folder(out, MANIFEST_FILE, "profilerec dataset", overwrite=overwrite) as tmp:
        if engine == "streaming":
            from profilerec.data import outofcore

            work = tmp / ".work"
            items, done = outofcore.run(source, work, config, say)
            shutil.rmtree(work)
            counts, meta_duplicates, meta_warnings = done["counts"], *done["meta"]
            warnings, report, sources = done["warnings"], done["report"], done["sources"]
            _write(items, tmp / ITEMS_FILE)
        else:
            say("reading")
            raw = reader(source, config.read)
            say("filtering and splitting")
            items, inter, examples, counts, warnings = _in_memory(raw, source, config)
            say("writing")
            meta_duplicates, meta_warnings = check_meta(raw.items, config.format)
            report, sources = raw.report, raw.sources
            _write(items, tmp / ITEMS_FILE)
            _write(inter, tmp / INTERACTIONS_FILE)
            _write(examples, tmp / EXAMPLES_FILE)
        warnings += meta_warnings
        warnings += check_splits(counts["examples"], config)
        counts |= {
            "meta_duplicates": meta_duplicates,
            "items": items.height,
            "items_with_meta": int(items["has_meta"].sum()),
        }
        manifest = {
            "profilerec_version": __version__,
            "format": config.format,
            "engine": engine,
            "sources": [
                {"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)}
                for p in sources
            ],
            "config": dataclasses.asdict(config),
            "counts": counts,
            "skipped": report.as_dict(),
            "warnings": warnings,
            "seconds": round(time.perf_counter() - started, 3),
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def choose_engine(source: Path, config: PrepareConfig) -> str:
    """The engine that runs: ``config.engine``, or by the reviews file's size under auto.

    A gzip file counts as ``GZIP_RATIO`` times its size (JSON text compresses about 4:1).
    """
    if config.engine not in ENGINES:
        raise UserError(f"--engine must be one of {', '.join(ENGINES)}, not {config.engine!r}")
    reviews = None
    if config.format == "amazon2023":
        from profilerec.data.readers.amazon2023 import _locate

        reviews = _locate(source)[0]
    jsonl = reviews is not None and ".jsonl" in reviews.name
    if config.engine == "streaming" and not jsonl:
        raise UserError(
            "--engine streaming reads an Amazon 2023 reviews JSONL file (--format amazon2023)"
        )
    if config.engine == "auto":
        if not jsonl or reviews is None:
            return "memory"
        size = reviews.stat().st_size * (GZIP_RATIO if is_gzip(reviews) else 1)
        return "streaming" if size > STREAMING_ABOVE else "memory"
    return config.engine


def _in_memory(
    raw: Any, source: Path, config: PrepareConfig
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any], list[str]]:
    """The in-memory engine: items, interactions, examples, counts, warnings."""
    n_read = raw.interactions.height
    if n_read == 0:
        raise UserError(f"{source}: no interactions were read")
    warnings = stats_warnings(
        frame_stats(raw.interactions, config.format), config.format, str(source)
    )
    if raw.examples is not None:
        return _given(raw, warnings)
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
    counts = {
        "interactions_read": n_read,
        "after_duplicate_collapse": n_dedup,
        "duplicates_collapsed": n_read - n_dedup,
        "items_without_meta": n_missing_meta,
        "interactions": inter.height,
        "users": inter["user_id"].n_unique(),
        "examples": dict(examples.group_by("split").len().sort("split").iter_rows()),
    }
    return items, inter, examples, counts, warnings


def _given(
    raw: Any, warnings: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any], list[str]]:
    """A benchmark whose split is given (``RawData.examples``): kept exactly as read.

    No k-core, no duplicate collapse of examples, no re-splitting: the filters and split
    options do not apply (the manifest's ``counts.given`` says so), and the whole item
    file is the catalogue, so full-catalogue figures match the published protocol.
    """
    inter, examples = raw.interactions, raw.examples
    n_read = int(raw.notes.get("sequence_items", inter.height))
    counts = {
        "interactions_read": n_read,
        "after_duplicate_collapse": inter.height,
        "duplicates_collapsed": n_read - inter.height,
        "items_without_meta": 0,
        "interactions": inter.height,
        "users": examples["user_id"].n_unique(),
        "examples": dict(examples.group_by("split").len().sort("split").iter_rows()),
        "given": raw.notes | {"filters_and_split_options": "not applied (the split is given)"},
    }
    return raw.items.sort("item_id"), inter, examples, counts, warnings + raw.warnings


def _write(frame: pl.DataFrame, path: Path) -> None:
    """One file of the dataset; the whole folder is made atomic by :func:`atomic_folder`."""
    frame.write_parquet(path)
