"""``export``: a trained profiler as a folder loadable without profilerec, with a model card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profilerec.cli.app import app, out


@app.command()
def export(
    run: Annotated[
        Path, typer.Argument(help="Training run folder (train --method blue|rlpf|judge|rft).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write (required).")],
    merge: Annotated[
        bool,
        typer.Option(
            help="Fold the adapter into the base weights: a plain transformers checkpoint "
            "(self-contained). Default: the PEFT adapter, which names its base."
        ),
    ] = False,
    eval_dir: Annotated[
        Path | None,
        typer.Option(
            "--eval",
            help="An evaluate folder holding this run's profiles and the untrained profiler's: "
            "the card reports their test figures with CIs.",
        ),
    ] = None,
    method: Annotated[
        str | None, typer.Option(help="This run's profile set in --eval (required with --eval).")
    ] = None,
    untrained: Annotated[
        str | None,
        typer.Option(help="The untrained profiler's set in --eval (default: its reference)."),
    ] = None,
    dataset: Annotated[
        Path | None,
        typer.Option(help="The dataset the run trained on: the card states its data and split."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an existing --out folder that holds other files.")
    ] = False,
) -> None:
    """Write RUN's profiler as a transformers (merged) or PEFT folder with a README.md model
    card: base model and licence, training data and split, reward and recipe, exposure, and
    test figures against the untrained profiler (--eval). Upload it yourself (see the card);
    profilerec never does."""
    from profilerec.errors import UserError
    from profilerec.export import ExportConfig, export_run
    from profilerec.outputs import check_out

    if eval_dir is not None and method is None:
        raise UserError("--eval needs --method NAME: this run's profile set in that evaluation")
    inputs = [run, *(p for p in (eval_dir, dataset) if p is not None)]
    check_out(out_dir, "adapter", inputs=inputs)  # an unmerged export is an adapter folder
    config = ExportConfig(
        merge=merge,
        eval_dir=eval_dir,
        method=method,
        untrained=untrained,
        dataset=dataset,
        overwrite=overwrite,
    )
    written = export_run(run, out_dir, config)
    kind = "merged checkpoint" if merge else "PEFT adapter"
    out.print(f"{kind} and model card written to {written}")
