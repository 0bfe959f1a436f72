"""A dataset view whose test split is the test examples of one profile set (a sample), with
other profile sets cut to the same examples, so `evaluate` compares them on exactly those.

Used for profilers too slow to write every test profile here (Gemma 3 270M on 250 sampled
users). The view links the dataset's files (so `--tuning-from` accepts it: same manifest) and
keeps the other splits whole.

Usage: python research/industrial/subset_view.py [--split valid] DATA SET VIEW [NAME=OTHER_SET ...]
  -> VIEW (the dataset view) and VIEW/sets/NAME (each other set on the same examples)
With --split valid the view's validation split is cut instead (paired validation comparisons
of two profile sets: `evaluate VIEW --split valid`).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import polars as pl

PROFILES = "profiles.parquet"


def main(data: Path, subset: Path, view: Path, others: list[str], split: str = "test") -> None:
    ids = pl.read_parquet(subset / PROFILES).filter(pl.col("split") == split)["example_id"]
    examples = pl.read_parquet(data / "examples.parquet")
    view.mkdir(parents=True, exist_ok=True)
    for f in data.iterdir():
        if f.name != "examples.parquet" and not (view / f.name).exists():
            (view / f.name).symlink_to(f.resolve())
    keep = (pl.col("split") != split) | pl.col("example_id").is_in(ids.implode())
    examples.filter(keep).write_parquet(view / "examples.parquet")
    for spec in others:
        name, _, source = spec.partition("=")
        out = view / "sets" / name
        out.mkdir(parents=True, exist_ok=True)
        frame = pl.read_parquet(Path(source) / PROFILES)
        frame.filter(pl.col("example_id").is_in(ids.implode())).write_parquet(out / PROFILES)
        if (Path(source) / "profile_config.json").exists():
            shutil.copy(Path(source) / "profile_config.json", out / "profile_config.json")
    print(f"{view}: {ids.len()} {split} examples")


if __name__ == "__main__":
    args = sys.argv[1:]
    which = "test"
    if args[:1] == ["--split"]:
        which, args = args[1], args[2:]
    main(Path(args[0]), Path(args[1]), Path(args[2]), args[3:], which)
