"""Markdown tables of a `profilerec qa` run's metrics.json (the QA notes in research/notes/).

Usage: python research/qa/qa_table.py QA_DIR
Rating: MAE, RMSE, digit accuracy [95% CI] per context and trivial predictor, with the paired
MAE difference against `history`, `item_mean` and `user_mean`. Choice: accuracy [95% CI] with
the paired difference against `history` and `popularity`.
``--vs NAME [--by-user]``: also each context's paired MAE and choice-accuracy difference
against context NAME, from answers.parquet (``--by-user`` resamples users: for splits with
several test examples per user).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def cell(m: dict[str, Any], ci: dict[str, Any], task: str, name: str, metric: str) -> str:
    lo, hi = ci[task][name][metric]
    return f"{m[task][name][metric]:.3f} [{lo:.3f}, {hi:.3f}]"


def diff(comps: list[dict[str, Any]], task: str, name: str, ref: str, metric: str) -> str:
    if name == ref:
        return "(reference)"
    for c in comps:
        if (c["task"], c["context"], c["reference"], c["metric"]) == (task, name, ref, metric):
            lo, hi = c["ci"]
            return f"{c['mean_diff']:+.3f} [{lo:+.3f}, {hi:+.3f}], p={c['p_value']:.3f}"
    return "–"


def versus(qa_dir: Path, ref: str, by_user: bool) -> None:
    """Paired differences of every context against ``ref`` (same examples, same resamples)."""
    import numpy as np
    import polars as pl

    from profilerec.retrieval import paired_bootstrap

    answers = pl.read_parquet(qa_dir / "answers.parquet")
    contexts = answers["context"].unique(maintain_order=True).to_list()
    if ref not in contexts:
        raise SystemExit(
            f"error: --vs {ref!r} is not a context of {qa_dir}; choose from {contexts}"
        )
    print(f"\n| context | MAE − {ref} [CI], p | choice accuracy − {ref} [CI], p |")
    print("|---|---|---|")
    for name in contexts:
        if name == ref:
            continue
        cells = []
        for task, col in (("rating", "abs_err"), ("choice", "correct")):
            part = answers.filter(pl.col("task") == task)
            a = part.filter(pl.col("context") == name).sort("example_id")
            b = part.filter(pl.col("context") == ref).sort("example_id")
            if a.is_empty() or a["example_id"].to_list() != b["example_id"].to_list():
                cells.append("–")
                continue
            groups = np.asarray(a["user_id"].to_list()) if by_user else None
            r = paired_bootstrap(a[col].to_numpy(), b[col].to_numpy(), groups=groups)
            cells.append(f"{r.mean_diff:+.3f} [{r.low:+.3f}, {r.high:+.3f}], p={r.p_value:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("qa_dir", type=Path)
    parser.add_argument("--vs", default=None, help="also compare every context with this one")
    parser.add_argument("--by-user", action="store_true", help="resample users, not examples")
    args = parser.parse_args()
    data = json.loads((args.qa_dir / "metrics.json").read_text())
    m, ci, comps = data["metrics"], data["ci"], data["comparisons"]
    known = {name for task in m.values() for name in task}
    if args.vs and args.vs not in known:
        raise SystemExit(
            f"error: --vs {args.vs!r} is not a context here; choose from {sorted(known)}"
        )
    print(f"{data['n_examples']} {data['split']} examples, reader {data['reader']}\n")
    if "rating" in m:
        refs = ("history", "item_mean", "user_mean")
        print(
            "| context | MAE | RMSE | digit acc. | "
            + " | ".join(f"MAE − {r} [CI], p" for r in refs)
            + " |"
        )
        print("|---" * (4 + len(refs)) + "|")
        for name in m["rating"]:
            cells = [cell(m, ci, "rating", name, k) for k in ("mae", "rmse", "accuracy")]
            cells += [diff(comps, "rating", name, r, "mae") for r in refs]
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()
    if "choice" in m:
        print("| context | choice accuracy | − history [CI], p | − popularity [CI], p |")
        print("|---|---|---|---|")
        for name in m["choice"]:
            cells = [cell(m, ci, "choice", name, "accuracy")]
            cells += [diff(comps, "choice", name, r, "accuracy") for r in ("history", "popularity")]
            print(f"| {name} | " + " | ".join(cells) + " |")
    if args.vs:
        versus(args.qa_dir, args.vs, args.by_user)


if __name__ == "__main__":
    main()
