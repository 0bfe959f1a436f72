"""Print a markdown table of an evaluation's metrics.json (for docs/results.md).

Usage: python scripts/results_table.py EVAL_DIR [--metrics recall@10,ndcg@10]
(also the chosen configuration of each tuned baseline, the comparisons against the best
ID baseline, and the per-slice NDCG@10 of metrics.json's slices or a PtE run's slices.json)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def table(result: dict, metrics: list[str], best: str | None = None) -> str:  # type: ignore[type-arg]
    head = "| method | " + " | ".join(f"{m} [95% CI]" for m in metrics) + " |"
    rows = [head, "|---|" + "---|" * len(metrics)]
    for method, values in result["metrics"].items():
        label = f"**{method}** (best ID)" if method == best else method
        cells = [
            f"{values[m]:.4f} [{result['ci'][method][m][0]:.4f}, {result['ci'][method][m][1]:.4f}]"
            for m in metrics
        ]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def slice_table(result: dict, metric: str = "ndcg@10") -> str:  # type: ignore[type-arg]
    """Methods as rows, slices as columns: ``metric`` [95% CI] on each slice's examples."""
    slices = {k: v for k, v in result["slices"].items() if k != "overall"}
    head = "| method | " + " | ".join(f"{k} (n={v['n']})" for k, v in slices.items()) + " |"
    rows = [head, "|---|" + "---|" * len(slices)]
    for method in result["metrics"]:
        cells = []
        for part in slices.values():
            value = part["metrics"].get(method, {}).get(metric)
            lo, hi = part["ci"].get(method, {}).get(metric, [0.0, 0.0])
            cells.append("–" if value is None else f"{value:.4f} [{lo:.3f}, {hi:.3f}]")
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def tuning(result: dict) -> str:  # type: ignore[type-arg]
    rows = ["| method | chosen on validation | valid ndcg@10 | grid points |", "|---|---|---|---|"]
    for name, rec in result.get("tuning", {}).items():
        chosen = ", ".join(f"{k}={v}" for k, v in rec["chosen"].items()) or "(none)"
        rows.append(f"| {name} | {chosen} | {rec['valid_ndcg@10']:.4f} | {len(rec['trials'])} |")
    return "\n".join(rows)


def comparisons(result: dict, key: str = "comparisons") -> str:  # type: ignore[type-arg]
    rows = ["| method | vs | metric | mean diff [95% CI] | p |", "|---|---|---|---|---|"]
    for c in result[key]:
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
    best = result.get("best_id_baseline")
    print(table(result, args.metrics.split(","), best))
    print()
    print(comparisons(result))
    if "tuning" in result:
        print(f"\nbest ID baseline (validation NDCG@10): {best}\n")
        print(tuning(result))
    if result.get("comparisons_vs_best_id"):
        print()
        print(comparisons(result, "comparisons_vs_best_id"))
    if "slices" in result:
        print("\n#### NDCG@10 per slice [95% CI]\n")
        print(slice_table(result))
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
