"""Result tables printed to stdout by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from profilerec.cli.app import console, out


def print_metrics(result: dict[str, Any]) -> None:
    """Recall/NDCG@10 with 95% CIs, then @50 and MRR: fits an 80-column terminal."""
    from rich import box

    by = " (users resampled)" if result.get("resampled") == "users" else ""
    table = Table(
        title=f"{result['split']}: {result['n_examples']} examples, {result['n_items']} items; "
        f"95% bootstrap CI{by}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("method", no_wrap=True)
    for name in ("R@10", "95% CI", "N@10", "95% CI", "R@50", "N@50", "MRR"):
        table.add_column(name, justify="right", no_wrap=True)

    def num(x: float) -> str:
        return f"{x:.3f}".lstrip("0") if x < 1 else f"{x:.2f}"

    best_id = result.get("best_id_baseline")
    for method, values in result["metrics"].items():
        ci = result["ci"][method]
        cells = []
        for m in ("recall@10", "ndcg@10"):
            cells += [num(values[m]), f"{num(ci[m][0])}-{num(ci[m][1])}"]
        cells += [num(values[m]) for m in ("recall@50", "ndcg@50", "mrr")]
        table.add_row(f"{method} *" if method == best_id else method, *cells)
    out.print(table)
    if best_id:
        out.print(f"* best ID baseline (highest validation NDCG@10): {best_id}")


def print_slices(result: dict[str, Any]) -> None:
    """NDCG@10 and, below it, its 95% CI per slice (methods as rows): fits 80 columns."""
    from rich import box

    slices = {k: v for k, v in (result.get("slices") or {}).items() if k != "overall"}
    if not slices:
        return
    table = Table(title="NDCG@10 per slice, 95% CI", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("method", no_wrap=True)
    short = {"cold_items": "cold", "short_history": "short", "tail_items": "tail"}
    for name, part in slices.items():
        table.add_column(f"{short.get(name, name)} n={part['n']}", justify="right", no_wrap=True)

    def num(x: float) -> str:
        return f"{x:.3f}".lstrip("0") if x < 1 else f"{x:.2f}"

    for method in result["metrics"]:
        cells = []
        for part in slices.values():
            value = part["metrics"].get(method, {}).get("ndcg@10")
            ci = part["ci"].get(method, {}).get("ndcg@10")
            cells.append("–" if value is None else f"{num(value)}\n{num(ci[0])}-{num(ci[1])}")
        table.add_row(method, *cells)
    out.print(table)
    out.print("cold: targets with few training interactions; short: 1-2 earlier items;")
    out.print("tail: long-tail targets; rest: none of these (full rows in metrics.json)")


def print_manifest(manifest: dict[str, Any], where: Path) -> None:
    """The counts a user checks after ``prepare``."""
    counts = manifest["counts"]
    table = Table(title=f"dataset written to {where}", show_header=False)
    for key in (
        "interactions_read",
        "duplicates_collapsed",
        "items_without_meta",
        "users",
        "items",
        "interactions",
    ):
        table.add_row(key.replace("_", " "), f"{counts[key]:,}")
    for split, n in counts["examples"].items():
        table.add_row(f"{split} examples", f"{n:,}")
    skipped = manifest["skipped"]
    if skipped["total"]:
        table.add_row("skipped (lenient)", f"{skipped['total']:,}: {skipped['by_reason']}")
    out.print(table)
    for warning in manifest.get("warnings", []):  # the data-sanity pass of prepare
        console.print(f"warning: {warning}", style="yellow")
