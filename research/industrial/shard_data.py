"""Split a prepared dataset's test examples into N dataset views by user, for N `profile` jobs.

`profile` has no shard option, and on a 2-core machine two one-thread jobs write profiles
about twice as fast as one two-thread job (see research/industrial/README.md). Each view
links the dataset's files and keeps only its users' test rows (other splits untouched);
research/industrial/merge_blue.py joins the shards' profiles into one set afterwards.

Usage: python research/industrial/shard_data.py runs/industrial/data runs/industrial/shards 2
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl


def main(data: Path, out: Path, n: int) -> None:
    examples = pl.read_parquet(data / "examples.parquet")
    users = examples.filter(pl.col("split") == "test")["user_id"].unique().sort()
    for i in range(n):
        mine = users.gather(list(range(i, users.len(), n)))
        folder = out / str(i)
        folder.mkdir(parents=True, exist_ok=True)
        for f in data.iterdir():
            if f.name != "examples.parquet" and not (folder / f.name).exists():
                (folder / f.name).symlink_to(f.resolve())
        keep = (pl.col("split") != "test") | pl.col("user_id").is_in(mine.implode())
        examples.filter(keep).write_parquet(folder / "examples.parquet")
        print(f"{folder}: {mine.len()} test users")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
