"""Paired bootstrap between any two methods of an evaluation (beyond its one --reference).

Usage: python scripts/paired.py EVAL_DIR METHOD REFERENCE [--k 10] [--by-user] [--reference-from DIR]
Reads EVAL_DIR/ranks.parquet (one target rank per method and example) and prints
Recall@k and NDCG@k of METHOD minus REFERENCE on the examples both ranked.
``--reference-from DIR`` reads REFERENCE from another evaluation of the same examples (e.g.
the same method under the frozen embedder, METHOD under a tuned one). ``--by-user``
resamples users, not examples (cluster bootstrap: for splits with several test examples per
user, whose examples are correlated); the last column then counts users.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from profilerec.retrieval import NDCG, Recall, paired_bootstrap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("method")
    parser.add_argument("reference")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--by-user", action="store_true", help="resample users, not examples")
    parser.add_argument(
        "--reference-from", type=Path, default=None, help="evaluation folder holding REFERENCE"
    )
    args = parser.parse_args()
    ranks = pl.read_parquet(args.eval_dir / "ranks.parquet")
    ref_dir = args.reference_from or args.eval_dir
    ref_ranks = pl.read_parquet(ref_dir / "ranks.parquet") if args.reference_from else ranks
    for name, frame, where in (
        (args.method, ranks, args.eval_dir),
        (args.reference, ref_ranks, ref_dir),
    ):
        known = set(frame["method"].unique())
        if name not in known:
            parser.error(f"{name!r} is not in {where}; methods: {', '.join(sorted(known))}")
    both = (
        ranks.filter(pl.col("method") == args.method)
        .select("example_id", "user_id", a="target_rank")
        .join(
            ref_ranks.filter(pl.col("method") == args.reference).select(
                "example_id", b="target_rank"
            ),
            on="example_id",
        )
    )
    a, b = both["a"].to_numpy(), both["b"].to_numpy()
    groups = both["user_id"].to_numpy() if args.by_user else None
    n = both["user_id"].n_unique() if args.by_user else len(a)
    for metric in (Recall(args.k), NDCG(args.k)):
        d = paired_bootstrap(metric.per_user(a), metric.per_user(b), groups=groups)
        print(
            f"| {args.method} | {args.reference} | {metric.prefix}@{args.k} | "
            f"{d.mean_diff:+.4f} [{d.low:+.4f}, {d.high:+.4f}] | {d.p_value:.3f} | {n} |"
        )


if __name__ == "__main__":
    main()
