"""``evaluate``: rank the catalogue per example and score every method."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profilerec.cli.app import app, console
from profilerec.cli.engine import (
    EngineOption,
    RayAddressOption,
    WorkerGpusOption,
    WorkersOption,
    make_engine_embedder,
    ray_options,
)
from profilerec.cli.loaders import profile_sets
from profilerec.cli.tables import print_metrics, print_slices


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
            help="Methods (repeatable; default all): ID baselines popularity, cooccurrence, "
            "itemknn, ease, als, bpr, sasrec; text history_text, mean_history; hybrid."
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="Split to evaluate.")] = "test",
    limit: Annotated[
        int, typer.Option(min=0, help="Evaluate only the first N examples (0 = all).")
    ] = 0,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Method the others are compared with (default: the first profile set, else "
            "history_text); every method is also compared with the best ID baseline.",
            show_default=False,
        ),
    ] = None,
    report: Annotated[bool, typer.Option(help="Also write report.html.")] = True,
    report_to: Annotated[
        str,
        typer.Option(
            help="Also log the metrics table to: none, tensorboard (OUT/tensorboard), mlflow "
            "(MLFLOW_TRACKING_URI, else OUT/mlruns); comma-separated."
        ),
    ] = "none",
    tune: Annotated[
        bool,
        typer.Option(
            help="Tune ID baselines and the hybrid on validation by their grids "
            "(--no-tune: documented defaults)."
        ),
    ] = True,
    untuned: Annotated[
        list[str] | None,
        typer.Option(help="ID baseline fitted at its defaults even when tuning (repeatable)."),
    ] = None,
    cold_item_max: Annotated[
        int, typer.Option(help="Slices: a target with at most N training interactions is cold.")
    ] = 5,
    short_history_max: Annotated[
        int,
        typer.Option(
            help="Slices: 1..N earlier items is a short-history user (4: the fewest a "
            "5-core test user has)."
        ),
    ] = 4,
    overwrite: Annotated[
        bool,
        typer.Option(
            help="Replace --out even when it holds files an evaluation does not write "
            "(refused otherwise: replacing would delete them)."
        ),
    ] = False,
    tuning_from: Annotated[
        Path | None,
        typer.Option(
            help="An earlier evaluation of the same dataset: reuse its ID baselines' chosen "
            "parameters (each refitted once) instead of searching their grids again.",
            show_default=False,
        ),
    ] = None,
    refit: Annotated[
        bool,
        typer.Option(
            help="Test split: refit each ID baseline at its validation-chosen parameters on "
            "everything before the user's first test target (validation targets included) "
            "before ranking test.",
        ),
    ] = False,
    mask_history: Annotated[
        bool,
        typer.Option(
            help="Remove each user's earlier items from the ranking (--no-mask-history: rank "
            "the full catalogue as it is, the protocol of MiniOneRec/TIGER's published figures)."
        ),
    ] = True,
    engine: EngineOption = "local",
    workers: WorkersOption = 2,
    ray_address: RayAddressOption = None,
    worker_gpus: WorkerGpusOption = 0.0,
) -> None:
    """Rank the whole catalogue per example and score every method (with bootstrap CIs)."""
    from profilerec.atomic import atomic_folder, check_target
    from profilerec.data.dataset import Dataset
    from profilerec.evaluate.checks import (
        check_dataset_whole,
        check_evaluate_inputs,
        empty_profiles,
    )
    from profilerec.evaluate.stage import BASE_METHODS, METRICS_FILE, EvaluateConfig, run_evaluate
    from profilerec.outputs import check_out

    profile_dirs = [spec.rpartition("=")[2] for spec in profiles or []]
    check_out(out_dir, "evaluation", inputs=[dataset, *profile_dirs])
    check_target(out_dir, METRICS_FILE, "evaluation", overwrite=overwrite)
    from profilerec.methods.tracking import check_evaluation_backends, log_evaluation

    check_evaluation_backends(report_to)  # before the embedder loads
    engine_options = ray_options(engine, workers, ray_address, worker_gpus)
    ds = Dataset.load(dataset)
    sets = profile_sets(profiles or [])
    config = EvaluateConfig(
        split=split,
        methods=tuple(method or BASE_METHODS),
        limit=limit,
        reference=reference,
        tune=tune,
        untuned=tuple(untuned or ()),
        cold_item_max=cold_item_max,
        short_history_max=short_history_max,
        mask_history=mask_history,
        tuning_from=str(tuning_from) if tuning_from else None,
        refit=refit,
    )
    # the cheap checks first, so a mistake is reported before the embedder loads
    examples = ds.split(split).sort("example_id")
    examples = examples.head(limit) if limit else examples
    check_dataset_whole(dataset, ds.items, examples)
    check_evaluate_inputs(examples, sets, config.methods, BASE_METHODS, reference)
    for name, frame in sets.items():
        if empty := empty_profiles(examples, frame):
            console.print(
                f"note: profiles {name!r}: {empty} of the {examples.height} evaluated examples "
                "have an empty text (each is ranked by the embedding of an empty string)"
            )
    emb = make_engine_embedder(engine_options, embedder)
    # metrics, ranks and report appear together or not at all: an interrupt or a full disk
    # leaves the previous evaluation whole (docs/architecture.md, "Write rules")
    with atomic_folder(out_dir, METRICS_FILE, "evaluation", overwrite=overwrite) as tmp:
        result = run_evaluate(ds, emb, tmp, config, sets)
        if report:
            from profilerec.cli.report import write_report  # here: keeps `--help` in import order

            write_report(tmp, ds, sets)
    log_evaluation(result, report_to, out_dir / "tensorboard", out_dir)  # beside the swapped folder
    print_metrics(result)
    print_slices(result)
