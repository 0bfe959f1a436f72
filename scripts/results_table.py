"""Print a markdown table of an evaluation's metrics.json (for docs/results.md).

Usage: python scripts/results_table.py EVAL_DIR [--metrics recall@10,ndcg@10]
(also prints the per-slice tables of a PtE run's slices.json)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def table(result: dict, metrics: list[str]) -> str:  # type: ignore[type-arg]
    head = "| method | " + " | ".join(f"{m} [95% CI]" for m in metrics) + " |"
    rows = [head, "|---|" + "---|" * len(metrics)]
    for method, values in result["metrics"].items():
        cells = [
            f"{values[m]:.4f} [{result['ci'][method][m][0]:.4f}, {result['ci'][method][m][1]:.4f}]"
            for m in metrics
        ]
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def comparisons(result: dict) -> str:  # type: ignore[type-arg]
    rows = ["| method | vs | metric | mean diff [95% CI] | p |", "|---|---|---|---|---|"]
    for c in result["comparisons"]:
        rows.append(
            f"| {c['method']} | {c['reference']} | {c['metric']} | {c['mean_diff']:+.4f} "
            f"[{c['ci'][0]:+.4f}, {c['ci'][1]:+.4f}] | {c['p_value']:.3f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("--metrics", default="recall@10,ndcg@10")
    args = parser.parse_args()
    result = json.loads((args.eval_dir / "metrics.json").read_text())
    print(
        f"{result['split']} split, {result['n_examples']} examples, {result['n_items']} items, "
        f"embedder {result['embedder']}\n"
    )
    print(table(result, args.metrics.split(",")))
    print()
    print(comparisons(result))
    slices_path = args.eval_dir / "slices.json"  # PtE runs: the same per slice
    if slices_path.is_file():
        for name, part in json.loads(slices_path.read_text()).items():
            if name == "overall":
                continue
            print(f"\n#### slice {name} ({part['n']} examples)\n")
            if part["n"]:
                print(table(part, args.metrics.split(",")))


if __name__ == "__main__":
    main()
