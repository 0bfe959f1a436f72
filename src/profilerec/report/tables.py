"""The report's tables: metrics with CIs (best per column marked) and paired comparisons."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from profilerec.errors import UserError

_CUTOFF = re.compile(r"^recall@(\d+)$")


@dataclass(frozen=True)
class Cell:
    #: Mean, e.g. ``0.0553`` ("–" when the method lacks the metric).
    value: str
    #: Interval, e.g. ``[0.031, 0.081]`` ("" when unknown).
    ci: str
    best: bool

    @property
    def text(self) -> str:
        """``0.0553 [0.031, 0.081]``: four decimals for the mean, three for the CI."""
        return f"{self.value} {self.ci}".strip()


@dataclass(frozen=True)
class MetricsTable:
    """Methods as rows; ``columns`` are (metric key, label) pairs."""

    columns: list[tuple[str, str]]
    rows: list[tuple[str, list[Cell]]]


@dataclass(frozen=True)
class Comparison:
    method: str
    reference: str
    metric: str
    mean_diff: str
    ci: str
    p_value: str
    #: "better", "worse" or "" (CI covers 0), for colouring.
    verdict: str


def check_metrics(result: Mapping[str, Any]) -> None:
    """Fail with one line when the dict is not what ``evaluate`` writes."""
    metrics = result.get("metrics") if isinstance(result, Mapping) else None
    if not isinstance(metrics, Mapping) or not metrics:
        raise UserError("metrics has no 'metrics' table; pass the contents of metrics.json")


def metric_columns(metrics: Mapping[str, Mapping[str, float]]) -> list[tuple[str, str]]:
    """Recall@K and NDCG@K for every K evaluated (ascending), then MRR."""
    keys = {k for values in metrics.values() for k in values}
    ks = sorted(int(m.group(1)) for k in keys if (m := _CUTOFF.match(k)))
    cols = [
        (f"{p}@{k}", f"{label}@{k}")
        for k in ks
        for p, label in (("recall", "Recall"), ("ndcg", "NDCG"))
    ]
    cols = [c for c in cols if c[0] in keys]
    return [*cols, ("mrr", "MRR")] if "mrr" in keys else cols


def headline_keys(metrics: Mapping[str, Mapping[str, float]]) -> list[str]:
    """NDCG and Recall at the smallest cutoff: what the bar chart shows."""
    cutoffs = [key.partition("@")[2] for key, _ in metric_columns(metrics) if "@" in key]
    if not cutoffs:
        return []
    keys = {k for values in metrics.values() for k in values}
    return [key for key in (f"ndcg@{cutoffs[0]}", f"recall@{cutoffs[0]}") if key in keys]


def fmt_ci(interval: Sequence[float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def metrics_table(result: Mapping[str, Any]) -> MetricsTable:
    metrics: Mapping[str, Mapping[str, float]] = result["metrics"]
    ci: Mapping[str, Mapping[str, list[float]]] = result.get("ci") or {}
    columns = metric_columns(metrics)
    best = {
        key: max((m[key] for m in metrics.values() if key in m), default=None) for key, _ in columns
    }
    rows = []
    for method, values in metrics.items():
        cells = []
        for key, _ in columns:
            if key not in values:
                cells.append(Cell("–", "", False))
                continue
            interval = fmt_ci(ci.get(method, {}).get(key))
            cells.append(Cell(f"{values[key]:.4f}", interval, values[key] == best[key]))
        rows.append((method, cells))
    return MetricsTable(columns=columns, rows=rows)


def fmt_p(p: float) -> str:
    # Bootstrap p-values resolve about 1/resamples, so more than three decimals would be noise.
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def comparisons_table(result: Mapping[str, Any]) -> list[Comparison]:
    rows = []
    for c in result.get("comparisons") or []:
        lo, hi = c["ci"]
        verdict = "better" if lo > 0 else "worse" if hi < 0 else ""
        rows.append(
            Comparison(
                method=c["method"],
                reference=c["reference"],
                metric=c["metric"],
                mean_diff=f"{c['mean_diff']:+.4f}",
                ci=f"[{lo:+.4f}, {hi:+.4f}]",
                p_value=fmt_p(c["p_value"]),
                verdict=verdict,
            )
        )
    return rows


def metric_label(key: str) -> str:
    """``ndcg@10`` -> ``NDCG@10`` for plot axes and headings."""
    name, _, k = key.partition("@")
    label = {"ndcg": "NDCG", "recall": "Recall", "hr": "HR", "mrr": "MRR"}.get(name, name)
    return f"{label}@{k}" if k else label
