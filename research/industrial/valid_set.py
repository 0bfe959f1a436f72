"""A profile set (``profiles.parquet``, split ``valid``) from a training run's validation profiles.

A BLUE / RLPF / judge run keeps ``validation/step-NNNNNN.parquet`` (its 512 user-disjoint
validation examples and the profile each step wrote). Written as a profile set, cut at the last
full sentence as ``profile`` cuts, a step can be evaluated beside profiles of the same examples
written another way (another token budget, decoding or adapter) with ``evaluate VIEW --split
valid``, where VIEW is ``subset_view.py --split valid`` of those examples. Validation only.

    python research/industrial/valid_set.py RUN:STEP OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
from run_step import run_step

from profilerec.atomic import atomic_folder
from profilerec.profile.quality import trim_to_sentence
from profilerec.profile.stage import PROFILES_FILE


def main(spec: str, out: Path) -> None:
    run, step, path = run_step(spec)
    rows = pl.read_parquet(path).select(
        "example_id",
        "user_id",
        pl.lit("valid").alias("split"),
        pl.lit(f"{run.name}_{step}").alias("method"),
        pl.col("profile").map_elements(trim_to_sentence, return_dtype=pl.String),
    )
    with atomic_folder(out, PROFILES_FILE, "profile set") as tmp:
        rows.write_parquet(tmp / PROFILES_FILE)
    print(f"{out}: {rows.height} validation profiles of {spec}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], Path(sys.argv[2]))
