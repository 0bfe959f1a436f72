"""``run``: a whole experiment from one YAML file, redoing only the stages that changed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profilerec.cli.app import app, out


@app.command(name="run")
def run_cmd(
    experiment: Annotated[Path, typer.Argument(help="Experiment file (examples/experiments/).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Experiment folder (required).")],
    check: Annotated[bool, typer.Option(help="Only read and check the file; run nothing.")] = False,
) -> None:
    """Run an experiment file: dataset (a path, the demo, or a download), trainings, profile
    sets, the evaluation and the report, as the existing stages with their caching and
    resume. A rerun after a kill or an edit redoes only the stages whose block (or a block
    they read) changed; experiment.json records each stage's fingerprint."""
    from profilerec.experiment import load_experiment, run_experiment

    exp = load_experiment(experiment, out_dir)
    if check:
        out.print(
            f"{experiment}: ok ({len(exp.profiles)} profile sets, {len(exp.trainings)} trainings)"
        )
        return
    result = run_experiment(exp)
    ran = ", ".join(result["ran"]) or "nothing (every stage unchanged)"
    out.print(f"ran: {ran}")
    if "eval" in result:
        out.print(f"evaluation: {result['eval']}")
