"""Paired bootstrap per evaluation slice: METHOD minus REFERENCE on each slice's examples.

Usage: python research/baselines/slice_paired.py EVAL_DIR DATASET_DIR REFERENCE METHOD [METHOD ...]
  [--k 10] [--metric ndcg|percentile] [--cold-item-max 5] [--short-history-max 2] [--by-user]
  [--exposure RUN]
Reads EVAL_DIR/ranks.parquet and rebuilds the slices of ``evaluate`` (cold items, short
history, long tail, rest; training interactions only) on the evaluated examples, so a
text method can be read against the best ID baseline where text should win. ``--by-user``
resamples users (cluster bootstrap), for splits with several test examples per user.
``--exposure RUN`` adds slices by what a training run saw (``RUN/exposure.parquet``): users
whose prompts it trained on, examples whose target picked its step, and the rest.
The last column is the smallest true difference the comparison would detect at p < 0.05
with 80% power (2.8 bootstrap standard errors): a slice whose detectable difference is
larger than any plausible gain cannot show one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.evaluate.slices import evaluate_slice_masks
from profilerec.profile.exposure import EXPOSURE_FILE, exposed_examples
from profilerec.retrieval import NDCG, paired_bootstrap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument("reference")
    parser.add_argument("methods", nargs="+")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--cold-item-max", type=int, default=5)
    parser.add_argument("--short-history-max", type=int, default=2)
    parser.add_argument("--by-user", action="store_true", help="resample users, not examples")
    parser.add_argument(
        "--metric",
        choices=("ndcg", "percentile"),
        default="ndcg",
        help="NDCG@k, or the target's percentile rank in the catalogue (1 = top)",
    )
    parser.add_argument("--exposure", type=Path, help="a training run folder: slices by exposure")
    args = parser.parse_args()
    ranks = pl.read_parquet(args.eval_dir / "ranks.parquet")
    metrics = json.loads((args.eval_dir / "metrics.json").read_text())
    config = metrics["config"]
    ds = Dataset.load(args.dataset_dir)
    examples = ds.split(config["split"]).sort("example_id")
    examples = examples.head(config["limit"]) if config["limit"] else examples
    known = set(ranks["method"].unique())
    for name in (args.reference, *args.methods):
        if name not in known:
            parser.error(f"{name!r} is not in {args.eval_dir}; methods: {', '.join(sorted(known))}")
    masks = evaluate_slice_masks(
        ds,
        examples,
        cold_item_max=args.cold_item_max,
        short_history_max=args.short_history_max,
    )
    if args.exposure is not None:
        if not (args.exposure / EXPOSURE_FILE).is_file():
            parser.error(
                f"{args.exposure} has no {EXPOSURE_FILE} (a run from before runs recorded it)"
            )
        masks.update(exposure_masks(args.exposure, examples))

    def per_example(method: str) -> pl.Series:
        rows = ranks.filter(pl.col("method") == method).select("example_id", "target_rank")
        aligned = examples.select("example_id").join(rows, on="example_id", how="left")
        if aligned["target_rank"].null_count():
            parser.error(f"{method!r} lacks ranks for some evaluated examples")
        return aligned["target_rank"]

    if args.metric == "percentile":
        metric: NDCG | Percentile = Percentile(metrics["n_items"])
        label = "percentile rank"
    else:
        metric, label = NDCG(args.k), f"NDCG@{args.k}"
    ref = metric.per_user(per_example(args.reference).to_numpy())
    users = examples["user_id"].to_numpy()
    print(
        f"| slice (n) | method | {label} − {args.reference} [95% CI] | p | detectable (80% power) |"
    )
    print("|---|---|---|---|---|")
    for name, mask in masks.items():
        for method in args.methods:
            if not mask.any():
                print(f"| {name} (0) | {method} | – | – | – |")
                continue
            values = metric.per_user(per_example(method).to_numpy())
            groups = users[mask] if args.by_user else None
            d = paired_bootstrap(values[mask], ref[mask], groups=groups)
            print(
                f"| {name} ({int(mask.sum())}) | {method} | "
                f"{d.mean_diff:+.4f} [{d.low:+.4f}, {d.high:+.4f}] | {d.p_value:.3f} "
                f"| ±{d.detectable():.4f} |"
            )


class Percentile:
    """The target's percentile rank among ``n_items`` (1 = ranked first, 0 = last)."""

    def __init__(self, n_items: int) -> None:
        self.n_items = n_items

    def per_user(self, target_ranks: np.ndarray) -> np.ndarray:
        return 1.0 - (target_ranks.astype(float) - 1.0) / max(self.n_items - 1, 1)


def exposure_masks(run: Path, examples: pl.DataFrame) -> dict[str, np.ndarray]:
    frame = pl.read_parquet(run / EXPOSURE_FILE)
    hits = exposed_examples(frame, examples)
    if len(hits["train"]):
        raise SystemExit(f"{len(hits['train'])} evaluated examples were trained on by {run}")
    ids = examples["example_id"]
    trained = (
        examples["user_id"]
        .is_in(frame.filter(pl.col("role") == "train")["user_id"].implode())
        .to_numpy()
    )
    picked = ids.is_in(hits["selection"].implode()).to_numpy()
    return {
        "users whose prompts the run trained on": trained,
        "targets that picked the run's step": picked,
        "all but the step-picking targets": ~picked,
        "users not trained on, targets not step-picking": ~trained & ~picked,
    }


if __name__ == "__main__":
    main()
