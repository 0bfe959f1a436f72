"""After ``prepare``: compare a downloaded dataset's counts with the published ones.

A local copy that does not match the paper's statistics (a truncated file, another
release, other filters) is the most common complaint in other toolkits' trackers, and it
silently changes every figure. ``prepare`` records each source file's path and sha256; a
source that ``profilerec download`` fetched is found through the ``download.json`` beside
it (or above it), a pinned file (MiniOneRec) also by its sha256 alone, so a copy put in
place by hand is checked too. Datasets without published counts are not checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from profilerec.data.download import MANIFEST
from profilerec.data.registry import DATASETS, DatasetSpec

#: How far above a source file ``download.json`` is looked for (MiniOneRec: DIR/Amazon/test/X).
SEARCH_DEPTH = 3


def identify(manifest: dict[str, Any]) -> tuple[DatasetSpec, str] | None:
    """The (dataset, category) a prepared dataset's sources came from, or None."""
    sources = [(Path(s["path"]).resolve(), s.get("sha256")) for s in manifest.get("sources", [])]
    for path, _ in sources:
        for folder in list(path.parents)[:SEARCH_DEPTH]:
            found = _from_download_record(folder, [p for p, _ in sources])
            if found is not None:
                return found
    digests = {d for _, d in sources if d}
    for spec in DATASETS.values():
        for category in spec.categories or ("",):
            pinned = {f.sha256 for f in spec.files(category) if f.sha256}
            if pinned and pinned & digests:
                return spec, category
    return None


def _from_download_record(folder: Path, sources: list[Path]) -> tuple[DatasetSpec, str] | None:
    record = folder / MANIFEST
    if not record.is_file():
        return None
    try:
        data = json.loads(record.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    files = data.get("files", {})
    for entry in data.get("datasets", {}).values():
        spec = DATASETS.get(entry.get("dataset", ""))
        if spec is None:
            continue
        owned = []
        for rel in entry.get("files", []):
            owned.append((folder / rel).resolve())
            owned += [(folder / top).resolve() for top in files.get(rel, {}).get("unpacked", [])]
        if any(src == own or own in src.parents for src in sources for own in owned):
            return spec, entry.get("category", "")
    return None


def observed(manifest: dict[str, Any]) -> dict[str, int]:
    """The counts the registry's ``expected`` keys name, from a prepare manifest."""
    counts = manifest["counts"]
    seen = {k: counts[k] for k in ("users", "items", "interactions", "interactions_read")}
    return seen | {split: int(n) for split, n in counts.get("examples", {}).items()}


def check_published(manifest: dict[str, Any]) -> list[str]:
    """One warning per count that differs from the published figure ([] when all match)."""
    found = identify(manifest)
    if found is None:
        return []
    spec, category = found
    expected = spec.expected.get(category)
    if not expected:
        return []
    seen = observed(manifest)
    name = f"{spec.name} {category}".strip()
    return [
        f"{name}: {key} is {seen.get(key, 'missing')}, the published figure is {want:,} "
        "(another release, a truncated file, or filters that differ from the paper's?)"
        for key, want in expected.items()
        if seen.get(key) != want
    ]
