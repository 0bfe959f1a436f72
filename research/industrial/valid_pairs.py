"""Paired validation comparisons of profiler training runs (issue 34's sweep table).

Every BLUE / RLPF / judge run on Industrial validates on the same 512 user-disjoint validation
examples (examples/blue_industrial.yaml: eval_examples 512, eval_disjoint_users) and keeps, per
validated step, ``validation/step-NNNNNN.parquet`` with each example's target rank. So two runs
(or two steps of one run) pair example by example: NDCG@10 per example, paired bootstrap over
users, with the smallest detectable difference. Validation only: test is never read here.

    python research/industrial/valid_pairs.py RUN_A:STEP RUN_B:STEP [RUN_C:STEP RUN_D:STEP ...]
    e.g. runs/industrial/blue/rlpf:25 runs/industrial/blue/coverage:25
"""

from __future__ import annotations

import sys

import numpy as np
import polars as pl
from run_step import run_step

from profilerec.retrieval.bootstrap import paired_bootstrap
from profilerec.retrieval.metrics import NDCG


def _ranks(spec: str) -> pl.DataFrame:
    _, _, path = run_step(spec)
    return pl.read_parquet(path).select("example_id", "user_id", "target_rank")


def main(specs: list[str]) -> None:
    if not specs or len(specs) % 2:
        sys.exit(__doc__)
    print("| A | B | n | NDCG@10 A | NDCG@10 B | A - B [95% CI] | p | detectable |")
    print("|---|---|---:|---:|---:|---|---:|---:|")
    for a_spec, b_spec in zip(specs[::2], specs[1::2], strict=True):
        both = _ranks(a_spec).join(_ranks(b_spec), on=["example_id", "user_id"], suffix="_b")
        a = NDCG(10).per_user(both["target_rank"].to_numpy())
        b = NDCG(10).per_user(both["target_rank_b"].to_numpy())
        res = paired_bootstrap(a, b, groups=both["user_id"].to_numpy())
        print(
            f"| {a_spec} | {b_spec} | {both.height} | {np.mean(a):.4f} | {np.mean(b):.4f} | "
            f"{res.mean_diff:+.4f} [{res.low:+.4f}, {res.high:+.4f}] | {res.p_value:.3f} | "
            f"{res.detectable():.4f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
