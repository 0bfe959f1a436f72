"""Print a markdown table of `profilerec train` runs (BLUE / RLPF / judge) for docs/results.md.

Usage: python scripts/train_table.py [LABEL=]RUN [[LABEL=]RUN ...] [--window 5]

Per run: steps, wall time (train_summary.json), the mean total reward of the first and last
`window` steps, the same for the run's own reward component, KL and clipped-rollout ratio at
the end, mean completion length first -> last, validation NDCG@10 at each logged step, and
the peak RSS of the training process.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import mean
from typing import Any

from profilerec.report import load_train_log


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="[LABEL=]RUN folders")
    parser.add_argument("--window", type=int, default=5, help="Steps averaged at each end.")
    args = parser.parse_args()
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
