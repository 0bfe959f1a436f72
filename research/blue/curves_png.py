"""Draw the training curves of GRPO runs as one PNG (docs/img/blue_curves.png).

Panels: total reward per step with a 5-step moving average, validation NDCG@10, KL to the
reference policy, and mean completion length; one colour per run.
Usage: python research/blue/curves_png.py RUN [RUN ...] --out docs/img/blue_curves.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

PANELS = [
    ("reward", "reward (mean over rollouts)"),
    ("valid_ndcg@10", "validation NDCG@10"),
    ("kl", "KL to the reference policy"),
    ("completions/mean_length", "completion length (tokens)"),
]


def series(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    pts = sorted({int(r["step"]): float(r[key]) for r in rows if key in r}.items())
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 3))
    for run in args.runs:
        rows = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
        for ax, (key, title) in zip(axes, PANELS, strict=True):
            xs, ys = series(rows, key)
            if not len(xs):
                continue
            line = ax.plot(xs, ys, marker="o", ms=3, lw=1, alpha=0.5, label=run.name)[0]
            if key == "reward" and len(ys) >= 5:
                avg = np.convolve(ys, np.ones(5) / 5, mode="valid")
                ax.plot(xs[4:], avg, color=line.get_color(), lw=2.2)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
