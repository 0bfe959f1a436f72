"""Print a markdown table of `profilerec train` runs (BLUE / RLPF / judge), as in the BLUE notes of research/notes/.

Usage: python research/blue/train_table.py [LABEL=]RUN [[LABEL=]RUN ...] [--window 5]
       python research/blue/train_table.py --sweep [LABEL=]RUN ...   (the sweep table of issue 19)
       python research/blue/train_table.py --paired RUN              (best validation step vs step 0)

Per run: steps, wall time (train_summary.json), the mean total reward of the first and last
`window` steps, the same for the run's own reward component, KL and clipped-rollout ratio at
the end, mean completion length first -> last, validation NDCG@10 at each logged step, and
the peak RSS of the training process. ``--sweep`` reads runs that were stopped before their
last step too (no train_summary.json): the configuration that defines each run, validation
NDCG@10 and cross-user sameness at the start and at the best step, steps done, the logged wall
time and the median step time. ``--paired`` bootstraps the best validation step's NDCG@10
against step 0's (the untrained profiler) on the same validation examples; the best step was
picked on those examples, so the p-value is optimistic (a test split is the real check).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np
import polars as pl

from profilerec.report import load_train_log
from profilerec.retrieval import NDCG, paired_bootstrap


def first_last(steps: list[dict[str, Any]], key: str, window: int) -> str:
    values = [s[key] for s in steps if key in s]
    if not values:
        return "-"
    return f"{mean(values[:window]):.2f} → {mean(values[-window:]):.2f}"


def row(label: str, run: Path, window: int) -> str:
    log = load_train_log(run / "train_log.jsonl")
    steps = [r for r in log if "reward" in r]
    summary = json.loads((run / "train_summary.json").read_text())
    reward_key = next(
        (k for k in ("rewards/embedding/mean", "rewards/rlpf/mean", "rewards/judge/mean")
         if any(k in s for s in steps)),
        "reward",
    )  # fmt: skip
    valid = " / ".join(f"{r['valid_ndcg@10']:.3f}" for r in log if "valid_ndcg@10" in r) or "-"
    last = steps[-1] if steps else {}
    rss = max((r.get("max_rss_mb", 0.0) for r in log), default=0.0) / 1024
    return (
        f"| {label} | {summary['steps']} | {summary['seconds'] / 60:.1f} min "
        f"| {first_last(steps, 'reward', window)} "
        f"| {reward_key.split('/')[1] if '/' in reward_key else reward_key}: "
        f"{first_last(steps, reward_key, window)} "
        f"| {last.get('kl', float('nan')):.3f} "
        f"| {first_last(steps, 'completions/mean_length', window)} "
        f"| {first_last(steps, 'completions/clipped_ratio', window)} "
        f"| {valid} | {rss:.1f} GB |"
    )


SWEEP_HEADER = (
    "| run | reward form | positives | users x rollouts | lr | beta | tokens | steps done "
    "| valid NDCG@10 start → best (step) | sameness start → at best | wall time | s / step |\n"
    "|---|---|---:|---|---:|---:|---:|---:|---|---|---:|---:|"
)


def sweep_row(label: str, run: Path) -> str:
    cfg = json.loads((run / "blue_config.json").read_text())
    log = load_train_log(run / "train_log.jsonl")
    valid = [r for r in log if "valid_ndcg@10" in r]
    steps = [r for r in log if "step_time" in r]
    start = next((r for r in valid if r["step"] == 0), None)
    best = max(valid, key=lambda r: (r["valid_ndcg@10"], r.get("valid_mrr", 0.0)), default=None)

    def fmt(r: dict[str, Any] | None, key: str) -> str:
        return f"{r[key]:.4f}" if r is not None and key in r else "-"

    best_step = f" ({best['step']})" if best is not None else ""
    wall = max((r.get("seconds", 0.0) for r in log), default=0.0) / 60
    step_time = float(np.median([r["step_time"] for r in steps])) if steps else float("nan")
    return (
        f"| {label} | {cfg.get('reward')}/{cfg.get('reward_variant')} | {cfg.get('n_positives')} "
        f"| {cfg.get('prompts_per_step')} x {cfg.get('num_generations')} "
        f"| {cfg.get('learning_rate'):g} | {cfg.get('beta'):g} "
        f"| {cfg.get('max_completion_length')} | {max((r['step'] for r in steps), default=0)} "
        f"| {fmt(start, 'valid_ndcg@10')} → {fmt(best, 'valid_ndcg@10')}{best_step} "
        f"| {fmt(start, 'valid_sameness')} → {fmt(best, 'valid_sameness')} "
        f"| {wall:.1f} min | {step_time:.1f} s |"
    )


def paired(run: Path) -> str:
    """Best validation step vs step 0 on the same validation examples (NDCG@10)."""
    best = json.loads((run / "best.json").read_text())["step"]
    folder = run / "validation"
    a = pl.read_parquet(folder / f"step-{best:06d}.parquet").select(
        "example_id", "user_id", a="target_rank"
    )
    b = pl.read_parquet(folder / "step-000000.parquet").select("example_id", b="target_rank")
    both = a.join(b, on="example_id")
    metric = NDCG(10)
    # Users resampled, not examples: a user's validation examples are correlated.
    d = paired_bootstrap(
        metric.per_user(both["a"].to_numpy()),
        metric.per_user(both["b"].to_numpy()),
        groups=both["user_id"].to_numpy(),
    )
    users = both["user_id"].n_unique()
    return (
        f"step {best} vs step 0, {both.height} validation examples of {users} users "
        "(users resampled): ndcg@10 "
        f"{d.mean_diff:+.4f} [{d.low:+.4f}, {d.high:+.4f}] p={d.p_value:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="[LABEL=]RUN folders")
    parser.add_argument("--window", type=int, default=5, help="Steps averaged at each end.")
    parser.add_argument("--sweep", action="store_true", help="The sweep table (issue 19).")
    parser.add_argument("--paired", action="store_true", help="Best step vs step 0.")
    args = parser.parse_args()
    if args.sweep or args.paired:
        if args.sweep:
            print(SWEEP_HEADER)
        for spec in args.runs:
            label, _, path = spec.rpartition("=")
            run = Path(path)
            print(sweep_row(label or run.name, run) if args.sweep else paired(run))
        return
    w = args.window
    print(
        f"| run | steps | wall time | reward, steps 1-{w} → last {w} | own reward component "
        "| KL at the end | tokens per profile | truncated share | valid NDCG@10 | peak RSS |"
    )
    print("|---|---:|---:|---|---|---:|---|---|---|---:|")
    for spec in args.runs:
        label, _, path = spec.rpartition("=")
        run = Path(path)
        print(row(label or run.name, run, w))


if __name__ == "__main__":
    main()
