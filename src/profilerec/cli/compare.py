"""``compare``: an evaluation's results as markdown, paired tests between any two methods, and
the regeneration of a results page's block from the run's own files.

Why a command: the tables of docs/results.md came from scripts a user could not find and were
pasted by hand; this reads ``metrics.json`` (and ``ranks.parquet`` for ``--pair``) and prints,
or with ``--write`` rewrites in place, the block a page marks for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from profilerec.cli.app import app, out
from profilerec.errors import UserError


def _load(eval_dir: Path) -> dict[str, Any]:
    path = eval_dir / "metrics.json"
    if not path.is_file():
        raise UserError(f"{eval_dir}: no metrics.json (not a `profilerec evaluate --out` folder?)")
    try:
        result = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(result, dict):
        raise UserError(f"{path}: expected an object with 'metrics'")
    return result


def _ranks(eval_dir: Path) -> Any:
    import polars as pl

    path = eval_dir / "ranks.parquet"
    if not path.is_file():
        raise UserError(f"{eval_dir}: no ranks.parquet, which --pair needs")
    return pl.read_parquet(path)


def _pairs(specs: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for spec in specs:
        method, sep, reference = spec.partition(":")
        if not (sep and method and reference):
            raise UserError(f"--pair {spec!r}: expected METHOD:REFERENCE, e.g. hybrid:sasrec")
        pairs.append((method, reference))
    return pairs


def _pair_metrics(rows: list[Any], metric: list[str] | None) -> list[Any]:
    """The paired rows of the ``--metric`` names; all rows when none names a paired metric
    (pairs are recall@k and ndcg@k only, so ``--metric mrr`` still shows them)."""
    kept = [r for r in rows if metric and r.metric in metric]
    return kept or rows


def _slice_parts(eval_dir: Path, result: dict[str, Any], metrics: Sequence[str]) -> list[str]:
    """The per-slice tables: metrics.json's ``slices`` (evaluate), else a PtE run's
    ``slices.json`` (one table per slice, each method against its own ID-only backbone)."""
    from profilerec.report.compare import results_table, slice_table

    by = "users" if result.get("resampled") == "users" else "examples"
    if table := slice_table(result):
        return [f"NDCG@10 per slice [95% CI] ({by} resampled):", table]
    path = eval_dir / "slices.json"
    if not path.is_file():
        return []
    parts = []
    for name, part in json.loads(path.read_text()).items():
        if name != "overall" and part.get("n") and part.get("metrics"):
            parts += [f"Slice {name} ({part['n']} examples):", results_table(part, metrics)]
    return parts


@app.command()
def compare(
    eval_dir: Annotated[
        Path, typer.Argument(help="An evaluation folder (metrics.json; ranks.parquet for --pair).")
    ],
    pair: Annotated[
        list[str] | None,
        typer.Option(
            help="METHOD:REFERENCE (repeatable): paired bootstrap of METHOD minus REFERENCE "
            "from ranks.parquet, Recall@K and NDCG@K."
        ),
    ] = None,
    k: Annotated[int, typer.Option(min=1, help="Cutoff of the --pair tests.")] = 10,
    by_user: Annotated[
        bool,
        typer.Option(
            help="--pair resamples users, not examples (for splits with several test examples "
            "per user)."
        ),
    ] = False,
    reference_from: Annotated[
        Path | None,
        typer.Option(
            help="Evaluation folder that holds each --pair REFERENCE (same examples, e.g. "
            "another embedder).",
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[
        Path | None,
        typer.Option(
            help="With --pair: the prepared dataset EVAL_DIR evaluated; each test is repeated on "
            "evaluate's slices (cold items, short history, long tail, rest), rebuilt with the "
            "evaluation's own thresholds.",
            show_default=False,
        ),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            help="Table columns (repeatable); default recall@10 and ndcg@10. Also keeps only "
            "these metrics in the --pair tests (which compute recall and NDCG at --k)."
        ),
    ] = None,
    slices: Annotated[
        bool,
        typer.Option(
            help="Also the per-slice tables (metrics.json's slices, or a PtE run's slices.json)."
        ),
    ] = False,
    write: Annotated[
        Path | None,
        typer.Option(
            help="Markdown page whose block marked '<!-- profilerec compare: NAME begin/end -->' "
            "is rewritten with the output (instead of printing it).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="Block name for --write (default: EVAL_DIR's folder name).", show_default=False
        ),
    ] = None,
) -> None:
    """Markdown table of an evaluation with a verdict per method against the best ID baseline;
    paired tests between any two methods; --write regenerates a results page's block."""
    from profilerec.atomic import write_text_atomic
    from profilerec.report.compare import (
        DEFAULT_METRICS,
        paired,
        paired_table,
        replace_block,
        section,
        slice_examples,
    )

    result = _load(eval_dir)
    parts = [section(result, metric or DEFAULT_METRICS)]
    if slices:
        parts += _slice_parts(eval_dir, result, metric or DEFAULT_METRICS)
    if dataset is not None and not pair:
        raise UserError("--dataset only slices --pair tests: add --pair METHOD:REFERENCE")
    if pair:
        from profilerec.data.dataset import Dataset

        ranks = _ranks(eval_dir)
        ref = _ranks(reference_from) if reference_from else None
        by_slice = slice_examples(Dataset.load(dataset), result) if dataset else None
        rows = []
        for method, reference in _pairs(pair):
            rows += paired(
                ranks, method, reference, k=k, by_user=by_user, reference_ranks=ref, slices=by_slice
            )
        rows = _pair_metrics(rows, metric)
        unit = "users" if by_user else "examples"
        parts += [f"Paired bootstrap, {unit} resampled (n counts {unit}):", paired_table(rows)]
    text = "\n\n".join(parts)
    if write is None:
        typer.echo(text)
        return
    if not write.is_file():
        raise UserError(f"{write}: no such page (--write rewrites a block of an existing file)")
    block = name or eval_dir.resolve().name
    write_text_atomic(write, replace_block(write.read_text(), block, text))
    out.print(f"rewrote block {block!r} of {write}")
