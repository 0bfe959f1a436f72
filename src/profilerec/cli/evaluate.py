"""``evaluate``: rank the catalogue per example and score every method."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profilerec.cli.app import app
from profilerec.cli.engine import (
    EngineOption,
    RayAddressOption,
    WorkerGpusOption,
    WorkersOption,
    make_engine_embedder,
    ray_options,
)
from profilerec.cli.loaders import profile_sets
from profilerec.cli.tables import print_metrics


@app.command()
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for metrics.json and ranks.parquet.")
    ],
    profiles: Annotated[
        list[str] | None,
        typer.Option(
            help="Profile set NAME=DIR or DIR (repeatable); each adds NAME and history+NAME."
        ),
    ] = None,
    embedder: Annotated[
        str,
        typer.Option(
            help="sentence-transformers (bundled MiniLM), sentence-transformers:ID_OR_PATH, openai:MODEL@URL."
        ),
    ] = "sentence-transformers",
    method: Annotated[
        list[str] | None,
        typer.Option(
            help="Baselines: popularity, history_text, mean_history, sasrec (repeatable; default all)."
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="Split to evaluate.")] = "test",
    limit: Annotated[int, typer.Option(help="Evaluate only the first N examples.")] = 0,
    reference: Annotated[
        str | None, typer.Option(help="Method the others are compared with.")
    ] = None,
    report: Annotated[bool, typer.Option(help="Also write report.html.")] = True,
    engine: EngineOption = "local",
    workers: WorkersOption = 2,
    ray_address: RayAddressOption = None,
    worker_gpus: WorkerGpusOption = 0.0,
) -> None:
    """Rank the whole catalogue per example and score every method (with bootstrap CIs)."""
    from profilerec.data.dataset import Dataset
    from profilerec.evaluate.checks import check_evaluate_inputs
    from profilerec.evaluate.stage import BASE_METHODS, EvaluateConfig, run_evaluate

    engine_options = ray_options(engine, workers, ray_address, worker_gpus)
    ds = Dataset.load(dataset)
    sets = profile_sets(profiles or [])
    config = EvaluateConfig(
        split=split, methods=tuple(method or BASE_METHODS), limit=limit, reference=reference
    )
    # the cheap checks first, so a mistake is reported before the embedder loads
    examples = ds.split(split).sort("example_id")
    examples = examples.head(limit) if limit else examples
    check_evaluate_inputs(examples, sets, config.methods, BASE_METHODS, reference)
    result = run_evaluate(ds, make_engine_embedder(engine_options, embedder), out_dir, config, sets)
    print_metrics(result)
    if report:
        from profilerec.cli.report import write_report  # here: keeps `--help` in import order

        write_report(out_dir, ds, sets)
