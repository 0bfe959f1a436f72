"""One markdown table across several runs of `profilerec train` (ablations for docs/results.md).

Each RUN_DIR holds a metrics.json; the table has a row per run and, for every METHOD asked
for, its value with the 95% CI and its paired difference from the method's reference.

Usage: python scripts/ablation_table.py RUN_DIR... --methods lightgcn+proex,multvae+proex
       [--metric ndcg@20]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cell(result: dict, method: str, metric: str) -> str:  # type: ignore[type-arg]
    if method not in result["metrics"]:
        return "–"
    lo, hi = result["ci"][method][metric]
    text = f"{result['metrics'][method][metric]:.4f} [{lo:.4f}, {hi:.4f}]"
    for c in result["comparisons"]:
        if c["method"] == method and c["metric"] == metric:
            text += f" (Δ {c['mean_diff']:+.4f}, p {c['p_value']:.2f})"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--methods", required=True, help="comma-separated method names")
    parser.add_argument("--metric", default="ndcg@20")
    args = parser.parse_args()
    methods = args.methods.split(",")
    print("| run | " + " | ".join(f"{m} {args.metric}" for m in methods) + " |")
    print("|---|" + "---|" * len(methods))
    for run in args.runs:
        result = json.loads((run / "metrics.json").read_text())
        cells = [cell(result, m, args.metric) for m in methods]
        print(f"| {run.name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
