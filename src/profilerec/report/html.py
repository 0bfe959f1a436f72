"""``write_report``: one self-contained HTML file from an evaluation run.

Everything is inline (CSS in the page, figures as base64 PNG), so the file can be
mailed, attached to an issue or opened offline. Jinja2 autoescaping is on because
profiles are model output and may contain markup.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from profilerec import __version__
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.report import plots, tables, users
from profilerec.report.verdict import is_untuned, method_label, verdict

RANK_COLUMNS = ("method", "example_id", "target_rank", "top10")


def write_report(
    out_path: str | Path,
    *,
    metrics: Mapping[str, Any],
    ranks: pl.DataFrame,
    dataset: Dataset,
    profiles: Mapping[str, pl.DataFrame] | None = None,
    train_logs: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    before_after: Sequence[tuple[str, str]] | None = None,
    slices: Mapping[str, Any] | None = None,
    title: str = "profilerec report",
    n_users: int = 5,
    seed: int = 0,
    date: str | None = None,
) -> Path:
    """Render the report to ``out_path`` and return it.

    ``profiles``: profile set name -> ``profiles.parquet`` frame (shown per user).
    ``train_logs``: run name -> per-step log rows; adds the training-curves section.
    ``before_after``: (set, set) pairs of ``profiles`` keys shown side by side for the
    same users, e.g. ``[("zero_shot", "blue")]``; adds the before/after section.
    ``slices``: the contents of a PtE run's ``slices.json``; adds one table per slice.
    A ``diversity`` entry in ``metrics`` (ProEx runs) adds the profile-diversity table.
    ``seed`` picks the example users; ``date`` defaults to today.
    """
    tables.check_metrics(metrics)
    try:
        tables.check_slices(slices or {})
    except UserError as err:
        raise UserError(f"slices: {err}") from None
    tables.check_diversity(metrics.get("diversity"))
    missing = [c for c in RANK_COLUMNS if c not in ranks.columns]
    if missing:
        raise UserError(
            f"ranks lacks column(s) {', '.join(missing)}; pass ranks.parquet from evaluate"
        )
    profiles = dict(profiles or {})
    users.check_pairs(profiles, before_after or [])
    result_metrics: Mapping[str, Mapping[str, float]] = metrics["metrics"]
    ranked = set(ranks["method"].unique().to_list())
    methods = [m for m in result_metrics if m in ranked] + sorted(ranked - set(result_metrics))
    n_items = int(metrics.get("n_items") or len(dataset.item_ids))
    headline = tables.headline_keys(result_metrics)
    picked = users.pick_examples(ranks, profiles, n_users, seed)

    tuning = metrics.get("tuning") or {}
    context: dict[str, Any] = {
        "title": title,
        "verdict": verdict(metrics),
        "caveat": model_caveat(profiles),
        "labels": {m: method_label(m, tuning) for m in {*result_metrics, *methods}},
        "untuned": [m for m in result_metrics if is_untuned(m, metrics)],
        "header": _header(metrics, dataset, date),
        "config": metrics.get("config") or {},
        "reference": metrics.get("reference"),
        "resampled": metrics.get("resampled", "examples"),
        "best_id": metrics.get("best_id_baseline"),
        "table": tables.metrics_table(metrics),
        "comparisons": tables.comparisons_table(metrics),
        "slices": tables.slice_tables(slices or {}),
        "diversity": tables.diversity_table(metrics.get("diversity")),
        "quality": tables.quality_table(metrics.get("profile_quality")),
        "quality_columns": [label for _, label, _ in tables.QUALITY_COLUMNS],
        "diversity_k": (metrics.get("diversity") or {}).get("k"),
        "bars": plots.metric_bars(result_metrics, metrics.get("ci") or {}, headline),
        "bars_caption": " and ".join(tables.metric_label(k) for k in headline),
        "split": metrics.get("split", ""),
        "hist": plots.rank_histograms(ranks, methods, n_items) if methods else None,
        "cards": users.user_cards(picked, ranks, dataset, profiles, methods),
        "curves": plots.training_curves(train_logs) if train_logs else None,
        "train_runs": {run: len(rows) for run, rows in (train_logs or {}).items()},
        "pairs": [
            (a, b, users.before_after(picked, ranks, profiles, (a, b)))
            for a, b in before_after or []
        ],
        "version": __version__,
    }
    html = _environment().get_template("report.html.j2").render(**context)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out


#: Substrings of a profile set's ``model_id`` that mark the small bundled profiler.
BUNDLED_MODELS = ("smollm2-135m", "smollm2")


def model_caveat(profiles: Mapping[str, pl.DataFrame]) -> str | None:
    """A warning when a profile set was written by the bundled 135M-parameter model."""
    names = sorted(
        name
        for name, frame in profiles.items()
        if "model_id" in frame.columns
        and any(
            b in str(m).lower()
            for m in frame["model_id"].unique().to_list()
            for b in BUNDLED_MODELS
        )
    )
    if not names:
        return None
    return (
        f"Profiles {', '.join(names)} were written by the bundled SmolLM2-135M, a 135M-parameter "
        "model chosen to run offline on a CPU: expect generic, sometimes inaccurate text. "
        "Read their figures as a floor for the method, not for LLM profiles in general; "
        "pass a larger model with --generator."
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("profilerec.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _header(
    metrics: Mapping[str, Any], dataset: Dataset, date: str | None
) -> list[tuple[str, str]]:
    manifest = dataset.manifest
    sources = ", ".join(Path(s["path"]).name for s in manifest.get("sources") or [] if "path" in s)
    detail = f" ({manifest['format']}: {sources})" if "format" in manifest and sources else ""
    n_examples = metrics.get("n_examples", dataset.split(str(metrics.get("split", "test"))).height)
    return [
        ("dataset", dataset.root.name + detail),
        ("split", str(metrics.get("split", "?"))),
        ("examples", f"{n_examples:,}"),
        ("items", f"{metrics.get('n_items', len(dataset.item_ids)):,}"),
        ("embedder", str(metrics.get("embedder", "?"))),
        ("reference", str(metrics.get("reference") or "–")),
        ("date", date or dt.date.today().isoformat()),
    ]
