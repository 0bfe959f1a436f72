"""Matplotlib figures as base64 PNG data URIs, so the report is one file with no fetches.

Figures are built with ``matplotlib.figure.Figure`` directly rather than pyplot: no
backend is selected and no global figure registry is touched, so a report can be
written from any thread or notebook without side effects.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from profilerec.report.tables import metric_label

#: Figures are drawn this wide (inches) at ``dpi`` 150 and shown ~1070 px wide, so 9 pt
#: text lands near the page's 13 px captions.
WIDTH = 10.5
COLORS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")
LINESTYLES = ("-", "--", ":", "-.")


def to_data_uri(fig: Figure, dpi: int = 150) -> str:
    buf = io.BytesIO()
    # No Software/date metadata: the same inputs give byte-identical PNGs. No
    # bbox_inches="tight": constrained layout already fits the margins, and "tight" draws twice.
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _grid(n: int, panel_height: float, *, sharey: bool = False) -> tuple[Figure, list[Axes]]:
    """Small multiples, up to ``3`` (or 2 when 4 or fewer) per row, margins fixed in inches.

    Fixed margins instead of constrained layout: laying out log axes made each figure
    take about a second; these panels have short labels that fit known margins.
    """
    ncols = 1 if n == 1 else 2 if n <= 4 else 3
    nrows = math.ceil(n / ncols)
    left, right, top, bottom, hgap, wgap = 0.75, 0.15, 0.3, 0.55, 0.75, 0.8
    height = nrows * panel_height + (nrows - 1) * hgap + top + bottom
    fig = Figure(figsize=(WIDTH, height))
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False).ravel()
    axis_w = (WIDTH - left - right - (ncols - 1) * wgap) / ncols
    fig.subplots_adjust(
        left=left / WIDTH,
        right=1 - right / WIDTH,
        top=1 - top / height,
        bottom=bottom / height,
        hspace=hgap / panel_height,
        wspace=wgap / axis_w,
    )
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _tidy(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    ax.grid(axis="both", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)


def metric_bars(
    metrics: Mapping[str, Mapping[str, float]],
    ci: Mapping[str, Mapping[str, Sequence[float]]],
    keys: Sequence[str],
) -> str | None:
    """Horizontal grouped bars per method (long names stay readable), CI as error bars."""
    methods = [m for m in metrics if any(k in metrics[m] for k in keys)]
    if not methods:
        return None
    fig = Figure(figsize=(WIDTH, 0.45 * len(methods) * len(keys) / 2 + 1.1), layout="constrained")
    ax = fig.add_subplot()
    height = 0.8 / len(keys)
    y = np.arange(len(methods))
    for j, key in enumerate(keys):
        vals = np.array([metrics[m].get(key, np.nan) for m in methods])
        lo = np.array(
            [(ci.get(m, {}).get(key) or [v, v])[0] for m, v in zip(methods, vals, strict=True)]
        )
        hi = np.array(
            [(ci.get(m, {}).get(key) or [v, v])[1] for m, v in zip(methods, vals, strict=True)]
        )
        err = np.clip(np.vstack([vals - lo, hi - vals]), 0, None)
        pos = y - 0.4 + height * (j + 0.5)
        ax.barh(
            pos, vals, height=height * 0.92, color=COLORS[j % len(COLORS)], label=metric_label(key)
        )
        ax.errorbar(vals, pos, xerr=err, fmt="none", ecolor="#333333", elinewidth=0.8, capsize=2)
    ax.set_yticks(y, methods)
    ax.invert_yaxis()
    ax.set_xlabel("mean over examples (whiskers: 95% bootstrap CI)", fontsize=9)
    ax.set_xlim(left=0)
    _tidy(ax)
    ax.grid(axis="y", visible=False)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return to_data_uri(fig)


def rank_histograms(ranks: pl.DataFrame, methods: Sequence[str], n_items: int) -> str:
    """Small multiples of the target's rank per method, log-spaced bins, shared axes."""
    methods = [m for m in methods if m in set(ranks["method"].unique().to_list())]
    fig, axes = _grid(len(methods), 1.5, sharey=True)
    top = max(n_items, int(ranks["target_rank"].max() or 1), 2)
    bins = np.unique(np.logspace(0, math.log10(top + 1), 31).round())
    for i, (ax, method) in enumerate(zip(axes, methods, strict=True)):
        values = ranks.filter(pl.col("method") == method)["target_rank"].to_numpy()
        ax.hist(values, bins=bins, color=COLORS[i % len(COLORS)], alpha=0.85)
        ax.axvline(10.5, color="#555555", linestyle=":", linewidth=0.8)
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks: clutter, and slow to lay out
        ax.set_title(f"{method}  (median {np.median(values):.0f})", fontsize=9)
        ax.set_xlim(0.8, top * 1.2)
        ax.set_xlabel("rank of the true next item", fontsize=8)
        ax.tick_params(labelleft=True)
        _tidy(ax)
    axes[0].set_ylabel("examples", fontsize=8)
    return to_data_uri(fig)


def _panel(key: str) -> str:
    """Which training-curve panel a logged key belongs to."""
    if key.startswith("reward"):
        return "reward (and components)"
    if key == "kl" or key.startswith(("kl_", "kl/")):
        return "KL to the reference policy"
    if "length" in key:
        return "completion length"
    if key.startswith("valid"):
        return "validation"
    return key


def flatten_log(row: Mapping[str, Any]) -> dict[str, float]:
    """Numeric entries of one log row; a nested ``reward_components`` dict becomes ``reward/<name>``."""
    flat: dict[str, float] = {}
    for key, value in row.items():
        if isinstance(value, Mapping):
            prefix = "reward" if key == "reward_components" else key
            flat.update({f"{prefix}/{k}": float(v) for k, v in value.items() if _is_number(v)})
        elif _is_number(value):
            flat[key] = float(value)
    return flat


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def training_curves(logs: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """One panel per quantity (reward with its components, KL, length, validation, ...) vs step.

    Rows may log a quantity only sometimes (validation every N steps): each series keeps
    just the steps where it was logged.
    """
    series: dict[str, dict[tuple[str, str], tuple[list[float], list[float]]]] = {}
    for run, rows in logs.items():
        for n, row in enumerate(rows):
            flat = flatten_log(row)
            step = flat.pop("step", float(n))
            for key, value in flat.items():
                if key == "epoch" or key.endswith(("_std", "/std")):
                    continue
                xs, ys = series.setdefault(_panel(key), {}).setdefault((run, key), ([], []))
                xs.append(step)
                ys.append(value)
    order = [
        "reward (and components)",
        "KL to the reference policy",
        "completion length",
        "validation",
    ]
    panels = [p for p in order if p in series] + sorted(p for p in series if p not in order)
    fig, axes = _grid(len(panels), 1.8)
    runs = list(logs)
    for ax, panel in zip(axes, panels, strict=True):
        keys = list(dict.fromkeys(key for _, key in series[panel]))
        for (run, key), (xs, ys) in series[panel].items():
            # One run: a colour per quantity. Several: a colour per run, a line style per quantity.
            k, r = keys.index(key), runs.index(run)
            ax.plot(
                xs,
                ys,
                color=COLORS[(k if len(runs) == 1 else r) % len(COLORS)],
                linestyle="-" if len(runs) == 1 else LINESTYLES[k % len(LINESTYLES)],
                linewidth=1.2,
                marker="o" if len(xs) < 30 else None,
                markersize=3,
                label=key if len(runs) == 1 else f"{run}: {key}",
            )
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        _tidy(ax)
        if len(series[panel]) > 1:
            ax.legend(frameon=False, fontsize=7)
        else:
            ax.set_ylabel(keys[0], fontsize=8)
    return to_data_uri(fig)
