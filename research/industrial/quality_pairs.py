"""Paired bootstrap of two profile sets' quality flags on the same test examples, users resampled.

evaluate's ``profile_quality`` gives each set's rates (cut mid-sentence, invented personal data);
this says whether the difference between two sets is more than chance, with the smallest
difference the test could detect, as the retrieval pairs do. Test profiles as written (cut at
the last full sentence by ``profile``); the history text is the one evaluate checks against.

    python research/industrial/quality_pairs.py DATASET SET_A SET_B [--split test]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.evaluate.quality import history_texts
from profilerec.profile.quality import ends_mid_sentence, personal_details
from profilerec.retrieval.bootstrap import paired_bootstrap


def _flags(path: Path, examples: pl.DataFrame, hist: list[str]) -> dict[str, np.ndarray]:
    if not (path / "profiles.parquet").exists():
        sys.exit(f"error: {path} is not a profile set (no profiles.parquet)")
    rows = pl.read_parquet(path / "profiles.parquet").select("example_id", "profile")
    texts = examples.select("example_id").join(rows, on="example_id", how="left")["profile"]
    if texts.null_count():
        sys.exit(f"error: {path} lacks {texts.null_count()} of the split's examples")
    return {
        "cut mid-sentence": np.array([ends_mid_sentence(t) for t in texts], dtype=float),
        "invented personal": np.array(
            [any(personal_details(t, h).values()) for t, h in zip(texts, hist, strict=True)],
            dtype=float,
        ),
    }


def main(dataset: Path, a: Path, b: Path, split: str = "test") -> None:
    ds = Dataset.load(dataset)
    examples = ds.split(split)
    hist = history_texts(ds, examples)
    fa, fb = _flags(a, examples, hist), _flags(b, examples, hist)
    users = examples["user_id"].to_numpy()
    print(f"| flag | {a.name} | {b.name} | A - B [95% CI] | p | detectable |")
    print("|---|---:|---:|---|---:|---:|")
    for name in fa:
        r = paired_bootstrap(fa[name], fb[name], groups=users)
        print(
            f"| {name} | {fa[name].mean():.1%} | {fb[name].mean():.1%} | "
            f"{r.mean_diff:+.1%} [{r.low:+.1%}, {r.high:+.1%}] | {r.p_value:.3f} | "
            f"{r.detectable():.1%} |"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    split = "test"
    if "--split" in args:
        i = args.index("--split")
        split = args[i + 1]
        del args[i : i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    main(Path(args[0]), Path(args[1]), Path(args[2]), split)
