"""``qa``: ask a frozen reader LLM about each test target under each context (none, history,
each profile set) and score its answers: rating MAE/RMSE, next-item choice, review ROUGE-L."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from profilerec.cli.app import DeviceOption, DtypeOption, app, console, out
from profilerec.cli.loaders import profile_sets

#: Columns of the terminal table: (task, metric, label).
COLUMNS = (
    ("rating", "mae", "MAE"),
    ("rating", "rmse", "RMSE"),
    ("rating", "accuracy", "r-acc"),
    ("choice", "accuracy", "choice"),
    ("review", "rouge_l", "ROUGE-L"),
)


@app.command()
def qa(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for metrics.json and answers.parquet.")
    ],
    profiles: Annotated[
        list[str] | None,
        typer.Option(help="Profile set NAME=DIR or DIR (repeatable); each is one more context."),
    ] = None,
    reader: Annotated[
        str,
        typer.Option(
            help="Reader LLM spec: transformers (bundled SmolLM2), transformers:ID_OR_PATH; "
            "openai:/llamacpp:/vllm: only for --task review."
        ),
    ] = "transformers",
    task: Annotated[
        list[str] | None,
        typer.Option(help="rating, choice, review (repeatable; default rating and choice)."),
    ] = None,
    split: Annotated[str, typer.Option(help="Split whose examples are asked about.")] = "test",
    limit: Annotated[int, typer.Option(min=0, help="Only the first N examples (0 = all).")] = 0,
    negatives: Annotated[
        int, typer.Option(help="Wrong options beside the true next item (choice task).")
    ] = 3,
    reference: Annotated[str, typer.Option(help="Context the others are compared with.")] = (
        "history"
    ),
    batch_size: Annotated[int, typer.Option(help="Prompts per forward pass.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the choice options and the bootstrap.")] = 0,
    dtype: DtypeOption = "auto",
    device: DeviceOption = "auto",
    report: Annotated[bool, typer.Option(help="Also write report.html (the QA section).")] = True,
    overwrite: Annotated[
        bool,
        typer.Option(help="Replace --out even if it is not a QA run or holds other files."),
    ] = False,
) -> None:
    """Profiles as context for personalized QA, with bootstrap CIs and paired tests."""
    from profilerec.atomic import check_target
    from profilerec.data.dataset import Dataset
    from profilerec.errors import UserError
    from profilerec.paths import cache_root
    from profilerec.qa.config import BASE_CONTEXTS, QAConfig
    from profilerec.qa.reader import Reader, check_reader_spec
    from profilerec.qa.stage import CHOICE_BASELINE, METRICS_FILE, TRIVIAL, run_qa, select

    config = QAConfig(
        tasks=tuple(dict.fromkeys(task or ("rating", "choice"))),
        split=split,
        limit=limit,
        n_negatives=negatives,
        reference=reference,
        batch_size=batch_size,
        seed=seed,
    )
    # every cheap check first, so a mistake is reported before the reader loads
    from profilerec.outputs import check_out

    check_out(out_dir, "QA run", inputs=[dataset, *(p.rpartition("=")[2] for p in profiles or [])])
    check_target(out_dir, METRICS_FILE, "qa output", overwrite=overwrite)
    check_reader_spec(reader, config.tasks)
    ds = Dataset.load(dataset)
    sets = profile_sets(profiles or [])
    known = [*BASE_CONTEXTS, *sets, *(TRIVIAL if "rating" in config.tasks else ())]
    known += [CHOICE_BASELINE] if "choice" in config.tasks else []
    if reference not in known:
        raise UserError(f"--reference {reference!r} is not a context; choose from {known}")
    from profilerec.evaluate.checks import check_profile_set
    from profilerec.evaluate.methods import profile_texts

    examples = select(ds, config)
    if "choice" in config.tasks:  # recorded parameters are the ones used
        from profilerec.qa.choice import negatives_room

        room = negatives_room(ds, examples)
        if room < 1:
            raise UserError(
                "--task choice: an asked user has seen every other item; no wrong option is left"
            )
        if config.n_negatives > room:
            console.print(
                f"note: --negatives {config.n_negatives} capped at {room}, the fewest wrong "
                "options any asked example has (metrics.json records the cap)"
            )
            config = dataclasses.replace(config, n_negatives=room)
    for name, frame in sets.items():
        # evaluate's checks (other users' rows, all-empty), then a profile per asked example
        check_profile_set(name, examples, frame, name)
        profile_texts(examples, frame, name)
    from profilerec.cli.loaders import make_generator

    generator = make_generator(reader, None, batch_size, dtype, device)

    def write_page(folder: Path, result: dict[str, Any]) -> None:
        """report.html inside the run's atomic folder: it always belongs to these metrics."""
        from profilerec.report.qa import write_qa_report

        write_qa_report(folder / "report.html", result, Path(dataset).name)

    result = run_qa(
        ds,
        Reader(generator, cache_root() / "qa", batch_size=batch_size),
        out_dir,
        config,
        sets,
        finish=write_page if report else None,
        overwrite=overwrite,
    )
    print_qa(result)
    out.print(f"written to {out_dir}")


def print_qa(result: dict[str, Any]) -> None:
    """Contexts as rows, one column per task metric with its CI half-width; fits 80 columns."""
    from rich import box
    from rich.table import Table

    metrics, ci = result["metrics"], result["ci"]
    columns = [c for c in COLUMNS if c[0] in metrics]
    table = Table(
        title=f"qa {result['split']}: {result['n_examples']} examples, reader "
        f"{Path(result['reader']).name}; ± half the 95% bootstrap CI; * p<0.05 vs "
        f"{result['reference']}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("context", no_wrap=True)
    for _, _, label in columns:
        table.add_column(label, justify="right", no_wrap=True)
    significant = {
        (c["task"], c["context"], "rmse" if c["metric"] == "mse" else c["metric"])
        for c in result["comparisons"]
        if c["p_value"] < 0.05 and c["reference"] == result["reference"]
    }
    names = list(dict.fromkeys(n for by in metrics.values() for n in by))
    for name in names:
        cells = []
        for task, metric, _ in columns:
            value = metrics[task].get(name, {}).get(metric)
            if value is None:
                cells.append("–")
                continue
            low, high = ci[task][name][metric]
            star = "*" if (task, name, metric) in significant else ""
            cells.append(f"{value:.2f}{star}±{(high - low) / 2:.2f}")
        table.add_row(name, *cells)
    out.print(table)
