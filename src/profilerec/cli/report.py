"""``report``: (re)write an evaluation's report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from profilerec.cli.app import app, out
from profilerec.cli.loaders import profile_sets
from profilerec.errors import UserError


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="Folder with metrics.json and ranks.parquet.")],
    dataset: Annotated[Path, typer.Option(help="The prepared dataset that was evaluated.")],
    train_log: Annotated[
        list[Path] | None, typer.Option(help="Training run folder(s) whose curves to draw.")
    ] = None,
    profiles: Annotated[
        list[str] | None,
        typer.Option(
            help="Profile sets shown in the report, as NAME=PATH (repeatable); default: "
            "those found under RUN_DIR."
        ),
    ] = None,
    before_after: Annotated[
        list[str] | None,
        typer.Option(
            help="Two profile sets shown side by side per user, as BEFORE:AFTER "
            "(e.g. zero_shot:blue; repeatable)."
        ),
    ] = None,
) -> None:
    """(Re)write RUN_DIR/report.html from an evaluation's files."""
    from profilerec.data.dataset import Dataset

    pairs = []
    for spec in before_after or []:
        a, sep, b = spec.partition(":")
        if not (sep and a and b):
            raise UserError(f"--before-after {spec!r}: expected BEFORE:AFTER, e.g. zero_shot:blue")
        pairs.append((a, b))
    ds = Dataset.load(dataset)
    sets = profile_sets(profiles) if profiles else None
    path = write_report(run_dir, ds, sets, train_runs=train_log or [], before_after=pairs)
    out.print(f"report: {path}")


def write_report(
    run_dir: Path,
    ds: Any,
    sets: dict[str, Any] | None,
    train_runs: list[Path] | None = None,
    before_after: list[tuple[str, str]] | None = None,
) -> Path:
    """RUN_DIR/report.html from an evaluation's files (shared by ``evaluate`` and ``report``)."""
    from profilerec.report import build_from_dirs, load_train_log

    logs = {}
    for run in train_runs or []:
        log = run / "train_log.jsonl"
        if not log.is_file():
            raise UserError(f"{run}: no train_log.jsonl (not a `profilerec train` run folder?)")
        logs[run.name] = load_train_log(log)
    kwargs: dict[str, object] = {"train_logs": logs} if logs else {}
    if sets is not None:
        kwargs["profiles"] = sets
    if before_after:
        kwargs["before_after"] = before_after
    return build_from_dirs(run_dir, ds.root, **kwargs)
