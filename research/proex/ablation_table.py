"""One markdown table across several runs of `profilerec train` (the ProEx ablations, research/notes/2026-12-01-proex.md).

Each RUN_DIR holds a metrics.json; the table has a row per run and, for every METHOD asked
for, its value with the 95% CI and its paired difference from the method's reference.

Usage: python research/proex/ablation_table.py [LABEL=]RUN_DIR... --methods lightgcn+proex,multvae+proex
       [--metric ndcg@20]   (a row is labelled LABEL, else the folder's name)
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
    parser.add_argument("runs", nargs="+", help="[LABEL=]RUN_DIR")
    parser.add_argument("--methods", required=True, help="comma-separated method names")
    parser.add_argument("--metric", default="ndcg@20")
    args = parser.parse_args()
    methods = args.methods.split(",")
    print("| run | " + " | ".join(f"{m} {args.metric}" for m in methods) + " |")
    print("|---|" + "---|" * len(methods))
    for spec in args.runs:
        label, _, folder = spec.rpartition("=")
        path = Path(folder) / "metrics.json"
        if not path.is_file():
            raise SystemExit(f"error: {path} not found (has that run finished?)")
        result = json.loads(path.read_text())
        cells = [cell(result, m, args.metric) for m in methods]
        print(f"| {label or Path(folder).name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
