"""Merge the Industrial zero-shot test set and its 1,000-user validation sample into one set.

The two runs (research/industrial/profile_jobs.sh) wrote separate folders, and the test run
finished before `profile` started keeping profiles up to their last full sentence by default.
This rebuilds both sets from the part files' raw texts so that they are treated alike:

- OUT/zero_shot_raw: the texts as generated (64 new tokens, most cut mid-sentence);
- OUT/zero_shot: the same texts up to their last full sentence (``trim_to_sentence``, what
  `profile` now writes by default).

Usage: python research/industrial/merge_profiles.py runs/industrial/profiles
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from profilerec.atomic import atomic_folder
from profilerec.profile.quality import trim_to_sentence
from profilerec.profile.stage import PARTS_DIR, PROFILES_FILE, load_parts


def main(root: Path) -> None:
    frames, configs = [], []
    for name in ("zero_shot_test", "zero_shot_valid"):
        folder = root / name
        raw = load_parts(folder / PARTS_DIR)
        frame = pl.read_parquet(folder / PROFILES_FILE)
        frames.append(frame.with_columns(pl.col("cache_key").replace_strict(raw).alias("profile")))
        configs.append(json.loads((folder / "profile_config.json").read_text()))
    merged = pl.concat(frames).sort("example_id")
    for out, finish in (("zero_shot_raw", str), ("zero_shot", trim_to_sentence)):
        with atomic_folder(root / out, PROFILES_FILE, "profile set") as tmp:
            merged.with_columns(
                pl.col("profile").map_elements(finish, return_dtype=pl.String)
            ).write_parquet(tmp / PROFILES_FILE)
            note = {"merged_from": configs, "sentence_end": finish is trim_to_sentence}
            (tmp / "profile_config.json").write_text(json.dumps(note, indent=2))
        print(f"{root / out}: {merged.height} profiles")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
