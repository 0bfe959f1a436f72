"""The report's opening verdict: what won, the best ID baseline, and every LLM method
read against it, generated from ``metrics.json`` alone.

Fused methods are named by what they fuse and the weight ``evaluate`` chose on
validation (``tuning[name]``): ``hybrid`` -> ``hybrid(sasrec + mean_history, w=0.2)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from profilerec.evaluate.registry import BASE_METHODS, ID_METHODS, label
from profilerec.report.tables import Comparison, comparisons_table, fmt_p, metric_label

#: Methods of ``evaluate`` that use no LLM profile (the registry's base methods). Every
#: other name is a profile set or built from one.
NON_LLM_METHODS = BASE_METHODS


def method_label(name: str, tuning: Mapping[str, Any] | None) -> str:
    """``name``, or for a fused method ``hybrid(ID + TEXT, w=W)``: the registry's label, the
    one the server shows too."""
    return label(name, tuning)


def is_llm_method(name: str, tuning: Mapping[str, Any] | None = None) -> bool:
    """A profile set, ``history+SET`` or a hybrid whose text side is a profile set."""
    record = (tuning or {}).get(name)
    if isinstance(record, Mapping) and "text_method" in record:
        return str(record["text_method"]) not in NON_LLM_METHODS
    base = name.removeprefix("history+").removeprefix("hybrid+")
    return base not in NON_LLM_METHODS


def is_untuned(name: str, metrics: Mapping[str, Any]) -> bool:
    """An ID baseline fitted at its documented defaults (``--no-tune`` or ``--untuned``)."""
    config = metrics.get("config") or {}
    return name in ID_METHODS and (
        config.get("tune") is False or name in (config.get("untuned") or ())
    )


@dataclass(frozen=True)
class Verdict:
    """The opening paragraph's parts; ``sentences`` is what the page prints."""

    metric: str
    best_method: str
    best_id: str
    sentences: list[str]
    #: Comparisons of every method with the best ID baseline at ``metric`` (labelled).
    comparisons: list[Comparison]


def verdict(metrics: Mapping[str, Any]) -> Verdict | None:
    """None when ``metrics`` has no best ID baseline or no comparisons with it."""
    best_id = metrics.get("best_id_baseline")
    rows = metrics.get("comparisons_vs_best_id") or []
    values: Mapping[str, Mapping[str, float]] = metrics.get("metrics") or {}
    if not best_id or not rows or best_id not in values:
        return None
    tuning = metrics.get("tuning") or {}
    metric = _headline(rows)
    ci = (metrics.get("ci") or {}).get(best_id, {}).get(metric)
    label = metric_label(metric)
    scored = [(m, v[metric]) for m, v in values.items() if metric in v]
    best, best_value = max(scored, key=lambda mv: mv[1])
    name = lambda m: method_label(m, tuning)  # noqa: E731
    how = "at its defaults" if is_untuned(best_id, metrics) else "tuned on validation"
    sentences = [
        f"Best method on test {label}: {name(best)} ({best_value:.4f}).",
        f"Best ID baseline (highest validation NDCG@10 among the ID models): {best_id}, "
        f"{how}, test {label} {values[best_id][metric]:.4f}"
        + (f" [{ci[0]:.4f}, {ci[1]:.4f}]." if ci else "."),
    ]
    at_metric = [r for r in rows if r["metric"] == metric]
    llm = [r for r in at_metric if is_llm_method(r["method"], tuning)]
    if llm:
        parts = [
            f"{name(r['method'])} {r['mean_diff']:+.4f} "
            f"(95% CI [{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}], p = {fmt_p(r['p_value'])})"
            for r in llm
        ]
        sentences.append(f"LLM methods minus {best_id} on {label}: " + "; ".join(parts) + ".")
        above = [name(r["method"]) for r in llm if r["ci"][0] > 0]
        sentences.append(
            f"Significantly above {best_id}: {', '.join(above)}."
            if above
            else f"No LLM method is significantly above {best_id}."
        )
    else:
        sentences.append("No LLM profile set was evaluated.")
    table = [
        Comparison(**{**c.__dict__, "method": name(c.method)})
        for c in comparisons_table({"comparisons": rows})
    ]
    return Verdict(metric, best, best_id, sentences, table)


def _headline(rows: list[Mapping[str, Any]]) -> str:
    """NDCG at the smallest compared cutoff, else the first metric compared."""
    metrics = [str(r["metric"]) for r in rows]
    ndcg = sorted((m for m in set(metrics) if m.startswith("ndcg@")), key=_cutoff)
    return ndcg[0] if ndcg else metrics[0]


def _cutoff(metric: str) -> int:
    tail = metric.partition("@")[2]
    return int(tail) if tail.isdigit() else 0
