"""The QA section: a ``profilerec qa`` folder's metrics as tables, written as ``report.html``.

One table per task (contexts as rows, each metric with its 95% bootstrap CI, the best value
in bold), the trivial rating predictors beside the contexts, and the paired tests against
the reference context coloured by the sign of a CI that excludes 0 (lower MAE/MSE is better).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profilerec import __version__
from profilerec.errors import UserError
from profilerec.report.tables import fmt_p

LABELS = {"mae": "MAE", "rmse": "RMSE", "accuracy": "accuracy", "rouge_l": "ROUGE-L F1"}
LOWER = {"mae", "rmse", "mse"}
NOTES = {
    "rating": "expected rating under the reader's digit distribution 1-5; accuracy of its most "
    "likely digit. user_mean / item_mean / global_mean: training-rating means (no model).",
    "choice": "the true next item among sampled wrong options, picked by option log-likelihood.",
    "review": "generated review title vs the real one.",
}


@dataclass(frozen=True)
class TaskTable:
    task: str
    note: str
    metrics: list[str]
    #: (context, [(text, best)] per metric).
    rows: list[tuple[str, list[tuple[str, bool]]]]


def check_qa(metrics: Mapping[str, Any]) -> None:
    for key in ("metrics", "ci", "comparisons"):
        if key not in metrics:
            raise UserError(f"QA metrics lack {key!r}; pass the metrics.json of `profilerec qa`")


def task_tables(result: Mapping[str, Any]) -> list[TaskTable]:
    out = []
    for task, by_name in result["metrics"].items():
        names = [m for m in LABELS if any(m in v for v in by_name.values())]
        best = {}
        for m in names:
            values = [v[m] for v in by_name.values() if m in v]
            best[m] = min(values) if m in LOWER else max(values)
        rows = []
        for name, values in by_name.items():
            cells = []
            for m in names:
                if m not in values:
                    cells.append(("–", False))
                    continue
                low, high = result["ci"][task][name][m]
                cells.append((f"{values[m]:.3f} [{low:.3f}, {high:.3f}]", values[m] == best[m]))
            rows.append((name, cells))
        out.append(TaskTable(task, NOTES.get(task, ""), [LABELS[m] for m in names], rows))
    return out


def comparison_rows(result: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for c in result["comparisons"]:
        lo, hi = c["ci"]
        gain = (hi < 0, lo > 0) if c["metric"] in LOWER else (lo > 0, hi < 0)
        verdict = "better" if gain[0] else "worse" if gain[1] else ""
        rows.append(
            {
                "task": c["task"],
                "context": c["context"],
                "reference": c["reference"],
                "metric": LABELS.get(c["metric"], c["metric"].upper()),
                "diff": f"{c['mean_diff']:+.4f}",
                "ci": f"[{lo:+.4f}, {hi:+.4f}]",
                "p": fmt_p(c["p_value"]),
                # absent in files written before it existed
                "detectable": f"±{c['detectable']:.4f}" if "detectable" in c else "",
                "verdict": verdict,
            }
        )
    return rows


def write_qa_report(out_path: str | Path, result: Mapping[str, Any], dataset_name: str) -> Path:
    """Render the QA page (self-contained HTML) to ``out_path``, atomically."""
    import jinja2

    check_qa(result)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("profilerec.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html = env.get_template("qa.html.j2").render(
        dataset=dataset_name,
        split=result.get("split", "?"),
        n_examples=result.get("n_examples", "?"),
        reader=result.get("reader", "?"),
        reference=result.get("reference", "?"),
        tables=task_tables(result),
        comparisons=comparison_rows(result),
        resampled=result.get("resampled", "examples"),
        date=dt.date.today().isoformat(),
        version=__version__,
    )
    out = Path(out_path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out
