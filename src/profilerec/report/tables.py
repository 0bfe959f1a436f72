"""The report's tables: metrics with CIs (best per column marked), paired comparisons,
per-slice metrics (PtE's ``slices.json``) and profile diversity (ProEx's ``metrics.json``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from profilerec.errors import UserError

_CUTOFF = re.compile(r"^recall@(\d+)$")
#: What each slice table shows: a fixed cutoff, so slices of different runs compare.
SLICE_COLUMNS = [("recall@10", "Recall@10"), ("ndcg@10", "NDCG@10")]
#: One line per slice ``evaluate.slices`` defines (from training interactions only).
SLICE_NOTES = {
    "cold_users": "users with few training interactions (cold start)",
    "warm_users": "users that are not cold",
    "tail_items": "targets among the least popular items in training (long tail)",
    "head_items": "targets among the popular items",
    "tail_users": "users among the least active in training (long tail)",
    "head_users": "users among the most active",
    "cold_items": "targets with few training interactions (new items)",
    "short_history": "users with the fewest items before the target (1-4 by default)",
    "rest": "none of cold items, short history, long tail",
}


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
    #: The smallest true difference the test would find with 80% power ("" for old files).
    detectable: str
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
    return _table(result, metric_columns(result["metrics"]))


def _table(result: Mapping[str, Any], columns: list[tuple[str, str]]) -> MetricsTable:
    metrics: Mapping[str, Mapping[str, float]] = result["metrics"]
    ci: Mapping[str, Mapping[str, list[float]]] = result.get("ci") or {}
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
                detectable=f"±{c['detectable']:.4f}" if "detectable" in c else "",
                verdict=verdict,
            )
        )
    return rows


def metric_label(key: str) -> str:
    """``ndcg@10`` -> ``NDCG@10`` for plot axes and headings."""
    name, _, k = key.partition("@")
    label = {"ndcg": "NDCG", "recall": "Recall", "hr": "HR", "mrr": "MRR"}.get(name, name)
    return f"{label}@{k}" if k else label


@dataclass(frozen=True)
class SliceTable:
    """One slice of the test split: its size and, when not empty, the metrics table."""

    name: str
    note: str
    n: int
    table: MetricsTable


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_interval(x: Any) -> bool:
    return isinstance(x, list) and len(x) == 2 and all(_is_number(v) for v in x)


def _check_nested(part: Mapping[str, Any], key: str, ok: Callable[[Any], bool], what: str) -> None:
    """``part[key]``, when present, must be method -> {metric: value with ``ok``}."""
    table = part.get(key, {})
    if not isinstance(table, Mapping):
        raise UserError(f"'{key}' must be an object of method -> {{metric: {what}}}")
    for method, values in table.items():
        bad = (
            "not an object"
            if not isinstance(values, Mapping)
            else next((f"{k!r} is not {what}" for k, v in values.items() if not ok(v)), None)
        )
        if bad:
            raise UserError(f"'{key}' of method {method!r}: {bad}")


def check_slices(slices: Mapping[str, Any]) -> None:
    """Fail with one line when the dict is not what a ProEx or PtE run writes to ``slices.json``."""
    if not isinstance(slices, Mapping):
        raise UserError("expected an object of slice name -> {n, metrics, ci}")
    for name, part in slices.items():
        if not isinstance(part, Mapping):
            raise UserError(f"slice {name!r} is not an object with n, metrics and ci")
        n = part.get("n")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise UserError(f"slice {name!r}: 'n' must be a non-negative integer, got {n!r}")
        try:
            _check_nested(part, "metrics", _is_number, "a number")
            _check_nested(part, "ci", _is_interval, "a [lo, hi] pair")
        except UserError as err:
            raise UserError(f"slice {name!r}: {err}") from None


def slice_tables(slices: Mapping[str, Any]) -> list[SliceTable]:
    """Every slice but ``overall`` (the main table already shows it), in file order."""
    return [
        SliceTable(
            name=name,
            note=SLICE_NOTES.get(name, ""),
            n=part["n"],
            table=_table(
                {"metrics": part.get("metrics") or {}, "ci": part.get("ci")}, SLICE_COLUMNS
            ),
        )
        for name, part in slices.items()
        if name != "overall"
    ]


def check_diversity(diversity: Any) -> None:
    """``None`` (not a ProEx run) or the dict ``proex.cot.profile_vectors`` returns."""
    if diversity is None:
        return
    if not isinstance(diversity, Mapping):
        raise UserError("'diversity' must be an object (k and mean pairwise cosines)")
    for side in ("user", "item"):
        value = diversity.get(f"{side}_mean_pairwise_cosine")
        if value is not None and not _is_number(value):
            raise UserError(f"'diversity': {side}_mean_pairwise_cosine must be a number or null")
    k = diversity.get("k")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
        raise UserError(f"'diversity': k must be a positive integer, got {k!r}")


def diversity_table(diversity: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(side, mean pairwise cosine) for each side that has one.

    A side has none when it was not profiled or K = 1 (no pairs); with neither side,
    or no diversity recorded (not a ProEx run), the list is empty and the section left out.
    """
    values = [
        (side, (diversity or {}).get(f"{side}_mean_pairwise_cosine")) for side in ("user", "item")
    ]
    return [(f"{side}s", f"{value:.4f}") for side, value in values if value is not None]


#: The profile-quality columns the report shows: (key, label, format).
QUALITY_COLUMNS = [
    ("n", "profiles", "{:,}"),
    ("mean_words", "mean words", "{:.1f}"),
    ("cut_mid_sentence", "cut mid-sentence", "{:.1%}"),
    ("invented_personal", "invented personal data", "{:.1%}"),
    ("sameness", "sameness", "{:.3f}"),
    ("grounding", "grounding", "{:.3f}"),
]


def quality_table(blocks: Mapping[str, Any] | None) -> list[tuple[str, list[str], str]]:
    """(profile set, formatted cells, an example of invented data or "") per set."""
    rows = []
    for name, block in (blocks or {}).items():
        if not isinstance(block, Mapping):
            raise UserError(f"'profile_quality' of {name!r} must be an object")
        cells = [
            "–" if not _is_number(block.get(key)) else fmt.format(block[key])
            for key, _, fmt in QUALITY_COLUMNS
        ]
        rows.append((name, cells, str(block.get("invented_example") or "")))
    return rows
