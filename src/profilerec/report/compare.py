"""Markdown results tables, a plain verdict per method and paired tests, from an evaluation.

Why here and not in scripts: docs/results.md used to be pasted by hand from one-off scripts, so
its tables drifted from the runs behind them. ``profilerec compare`` builds every table from the
files ``evaluate`` writes (``metrics.json``; ``ranks.parquet`` for extra paired tests) and can
rewrite a marked block of a markdown page in place, so a results page is regenerated, never
edited. Everything here is pure (dicts and frames in, text out) so it is tested on small
hand-made fixtures.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from profilerec.errors import UserError
from profilerec.report.tables import check_metrics, fmt_p
from profilerec.report.verdict import method_label, verdict

if TYPE_CHECKING:
    import polars as pl

    from profilerec.data.dataset import Dataset

#: The metrics the results table shows unless told otherwise.
DEFAULT_METRICS = ("recall@10", "ndcg@10")


def _ci(interval: Sequence[float] | None, sign: bool = False) -> str:
    if interval is None:
        return ""
    f = "{:+.4f}" if sign else "{:.4f}"
    return f"[{f.format(interval[0])}, {f.format(interval[1])}]"


def method_verdict(row: Mapping[str, Any] | None, best_id: str) -> str:
    """One plain phrase: above, level with or below the best ID baseline.

    "Level" carries the smallest difference the test could have found, because "no
    significant difference" on 250 test users and on 4,500 mean very different things.
    """
    if row is None:
        return "not compared"
    lo, hi = row["ci"]
    if lo > 0:
        return f"above {best_id}"
    if hi < 0:
        return f"below {best_id}"
    could = f" (could detect {row['detectable']:.4f})" if "detectable" in row else ""
    return f"level with {best_id}{could}"


def headline_metric(result: Mapping[str, Any]) -> str:
    """The metric the verdicts are read at: the one ``report.verdict`` leads with."""
    v = verdict(result)
    return v.metric if v is not None else "ndcg@10"


def describe(result: Mapping[str, Any]) -> str:
    """One line saying what was evaluated and how intervals were resampled."""
    by = "users" if result.get("resampled") == "users" else "examples"
    parts = [
        f"{result.get('split', '?')} split",
        f"{result.get('n_examples', '?'):,} examples"
        if isinstance(result.get("n_examples"), int)
        else "",
        f"{result.get('n_items', '?'):,} items" if isinstance(result.get("n_items"), int) else "",
        f"embedder `{result['embedder']}`" if result.get("embedder") else "",
        f"95% bootstrap intervals, {by} resampled",
    ]
    return ", ".join(p for p in parts if p) + "."


def results_table(result: Mapping[str, Any], metrics: Sequence[str] = DEFAULT_METRICS) -> str:
    """Methods as rows: each metric [95% CI], the difference from the best ID baseline at the
    headline metric, and the verdict. Without a best ID baseline the last two are left out."""
    check_metrics(result)
    values: Mapping[str, Mapping[str, float]] = result["metrics"]
    ci: Mapping[str, Mapping[str, list[float]]] = result.get("ci") or {}
    tuning = result.get("tuning") or {}
    best_id = result.get("best_id_baseline")
    headline = headline_metric(result)
    vs = {
        r["method"]: r
        for r in result.get("comparisons_vs_best_id") or []
        if r.get("metric") == headline
    }
    compare = bool(best_id and vs)
    head = ["method", *(f"{m} [95% CI]" for m in metrics)]
    if compare:
        head += [f"{headline} − {best_id} [95% CI], p", "verdict"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, row_values in values.items():
        label = method_label(method, tuning)
        cells = [f"**{label}** (best ID)" if method == best_id else label]
        for m in metrics:
            value = row_values.get(m)
            interval = _ci(ci.get(method, {}).get(m))
            cells.append("–" if value is None else f"{value:.4f} {interval}".strip())
        if compare:
            row = vs.get(method)
            if method == best_id:
                cells += ["—", "best ID baseline (highest validation NDCG@10)"]
            elif row is None:
                cells += ["–", "not compared"]
            else:
                cells += [
                    f"{row['mean_diff']:+.4f} {_ci(row['ci'], sign=True)}, {fmt_p(row['p_value'])}",
                    method_verdict(row, str(best_id)),
                ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def slice_table(result: Mapping[str, Any], metric: str = "ndcg@10") -> str:
    """Methods as rows, slices as columns: ``metric`` [95% CI] on each slice's examples."""
    slices = {k: v for k, v in (result.get("slices") or {}).items() if k != "overall"}
    if not slices or not all(isinstance(v, Mapping) for v in slices.values()):
        return ""  # a ProEx / PtE run lists slice sizes here; its tables are in slices.json
    head = "| method | " + " | ".join(f"{k} (n={v['n']})" for k, v in slices.items()) + " |"
    rows = [head, "|---|" + "---|" * len(slices)]
    for method in result["metrics"]:
        cells = []
        for part in slices.values():
            value = part.get("metrics", {}).get(method, {}).get(metric)
            interval = part.get("ci", {}).get(method, {}).get(metric)
            cells.append("–" if value is None else f"{value:.4f} {_ci(interval)}".strip())
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def section(result: Mapping[str, Any], metrics: Sequence[str] = DEFAULT_METRICS) -> str:
    """The block a results page shows for one dataset: what was run, the table with a verdict
    per method, and the report's opening verdict in sentences."""
    parts = [describe(result), "", results_table(result, metrics)]
    v = verdict(result)
    if v is not None:  # the report's opening paragraph, the same words on both surfaces
        parts += ["", " ".join(v.sentences)]
    return "\n".join(parts)


@dataclass(frozen=True)
class Paired:
    """METHOD minus REFERENCE at one metric on the examples both ranked."""

    method: str
    reference: str
    metric: str
    mean_diff: float
    low: float
    high: float
    p_value: float
    detectable: float
    #: Examples, or users when users were resampled.
    n: int
    #: The evaluation slice the test ran on ("" for every example).
    slice: str = ""


def paired(
    ranks: pl.DataFrame,
    method: str,
    reference: str,
    *,
    k: int = 10,
    by_user: bool = False,
    reference_ranks: pl.DataFrame | None = None,
    slices: Mapping[str, Collection[int]] | None = None,
) -> list[Paired]:
    """Recall@k and NDCG@k of ``method`` minus ``reference`` (paired bootstrap).

    ``reference_ranks`` reads the reference from another evaluation of the same examples
    (e.g. the same method under another embedder); ``by_user`` resamples whole users, for
    splits where a user has several correlated test examples. ``slices`` (name -> example
    ids, see :func:`slice_examples`) repeats the test on each slice: text is expected to win
    on cold items and short histories even where it loses overall.
    """
    import polars as pl

    ref = ranks if reference_ranks is None else reference_ranks
    for name, frame in ((method, ranks), (reference, ref)):
        known = set(frame["method"].unique().to_list())
        if name not in known:
            raise UserError(f"{name!r} is not evaluated there; methods: {', '.join(sorted(known))}")
    both = (
        ranks.filter(pl.col("method") == method)
        .select("example_id", "user_id", a="target_rank")
        .join(
            ref.filter(pl.col("method") == reference).select("example_id", b="target_rank"),
            on="example_id",
        )
    )
    if both.height == 0:
        raise UserError(f"{method!r} and {reference!r} share no example")
    parts = (
        {"": both}
        if slices is None
        else {
            name: both.filter(pl.col("example_id").is_in(list(ids))) for name, ids in slices.items()
        }
    )
    rows = []
    for name, part in parts.items():
        if part.height:
            rows += _paired_rows(part, method, reference, k, by_user, name)
    return rows


def _paired_rows(
    both: pl.DataFrame, method: str, reference: str, k: int, by_user: bool, name: str
) -> list[Paired]:
    from profilerec.retrieval import NDCG, Recall, paired_bootstrap

    a, b = both["a"].to_numpy(), both["b"].to_numpy()
    groups = both["user_id"].to_numpy() if by_user else None
    n = both["user_id"].n_unique() if by_user else both.height
    rows = []
    for metric in (Recall(k), NDCG(k)):
        d = paired_bootstrap(metric.per_user(a), metric.per_user(b), groups=groups)
        rows.append(
            Paired(
                method,
                reference,
                f"{metric.prefix}@{k}",
                d.mean_diff,
                d.low,
                d.high,
                d.p_value,
                d.detectable(),
                n,
                name,
            )
        )
    return rows


def paired_table(rows: Sequence[Paired]) -> str:
    """The markdown table of :func:`paired` rows; a slice column when any row has one."""
    sliced = any(p.slice for p in rows)
    head = ["slice"] if sliced else []
    head += ["method", "vs", "metric", "mean diff [95% CI]", "p", "detectable", "n"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * (len(head) - 2) + "---:|---:|"]
    for p in rows:
        cells = [p.slice] if sliced else []
        cells += [
            p.method,
            p.reference,
            p.metric,
            f"{p.mean_diff:+.4f} [{p.low:+.4f}, {p.high:+.4f}]",
            fmt_p(p.p_value),
            f"{p.detectable:.4f}",
            str(p.n),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def slice_examples(dataset: Dataset, result: Mapping[str, Any]) -> dict[str, list[int]]:
    """The example ids of each slice exactly as ``evaluate`` drew them for ``result``.

    The thresholds come from ``result["config"]`` and, after ``--refit``, the slices are
    defined on what the refitted models learned from (training plus validation), as in
    ``evaluate``; an evaluation limited to its first N examples keeps those N.
    """
    from profilerec.evaluate.slices import evaluate_slice_masks

    config = result.get("config") or {}
    split = str(config.get("split") or result.get("split") or "test")
    examples = dataset.split(split).sort("example_id")
    if config.get("limit"):
        examples = examples.head(int(config["limit"]))
    fit = dataset.with_valid_as_train() if config.get("refit") and split == "test" else dataset
    masks = evaluate_slice_masks(
        fit,
        examples,
        cold_item_max=int(config.get("cold_item_max", 5)),
        short_history_max=int(config.get("short_history_max", 2)),
        tail_item_frac=float(config.get("tail_item_frac", 0.8)),
    )
    ids = examples["example_id"].to_numpy()
    return {name: ids[mask].tolist() for name, mask in masks.items()}


def markers(name: str) -> tuple[str, str]:
    """The comment lines that delimit a generated block named ``name`` on a markdown page."""
    return f"<!-- profilerec compare: {name} begin -->", f"<!-- profilerec compare: {name} end -->"


def replace_block(page: str, name: str, body: str) -> str:
    """``page`` with the text between ``name``'s markers replaced by ``body``.

    Refuses when the markers are missing or repeated rather than appending somewhere: the
    page's author decides where a dataset's table goes, the command only fills it in.
    """
    begin, end = markers(name)
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.DOTALL)
    found = pattern.findall(page)
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise UserError(
            f"expected one block marked {begin!r} ... {end!r} in the page, found {what}"
        )
    return pattern.sub(lambda _: f"{begin}\n{body.rstrip()}\n{end}", page)
