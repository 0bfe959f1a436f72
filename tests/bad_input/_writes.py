"""Helpers of the write-rule cases (issue 32): folder snapshots, profile sets, refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from profilerec.data.dataset import Dataset


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) by relative path -> sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def profiles_of(dataset: Path, n: int | None = None) -> pl.DataFrame:
    """A valid profile set of the dataset's test examples (the first ``n``)."""
    test = Dataset.load(dataset).split("test").sort("example_id")
    test = test.head(n) if n else test
    return test.select("example_id", "user_id", "split").with_columns(
        profile=pl.lit("likes gentle skin care"),
        method=pl.lit("zero_shot"),
        prompt=pl.format("prompt of {}", "example_id"),
    )


def write_set(folder: Path, frame: pl.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / "profiles.parquet")
    return folder


def previous_run(folder: Path, metrics: str, *others: str) -> Path:
    """A previous run's folder: ``metrics.json`` and ``others`` (placeholder contents), which
    belong together and must stay byte-identical when a later run is refused or interrupted."""
    folder.mkdir()
    (folder / "metrics.json").write_text(metrics)
    for name in others:
        (folder / name).write_text(f"old {name}")
    return folder


def refused(result: tuple[int, str], fragment: str) -> None:
    """Exit 2 and one ``error: ...`` line holding ``fragment``."""
    code, err = result
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert fragment in err, err


class Fixed:
    """A generator writing one text for every prompt."""

    def __init__(self, text: str = "likes gentle skin care") -> None:
        self.text = text
        self.model_id = f"fixed:{text}"

    def generate(self, prompts: list, config: object) -> list[str]:  # type: ignore[type-arg]
        return [self.text for _ in prompts]
