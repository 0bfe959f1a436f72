"""``prepare``: raw logs into a canonical dataset folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from profilerec.cli.app import _pair, app, console
from profilerec.cli.tables import print_manifest
from profilerec.errors import UserError


@app.command()
def prepare(
    out_dir: Annotated[Path, typer.Option("--out", help="Dataset folder to write (required).")],
    source: Annotated[
        Path | None, typer.Argument(help="Reviews file, or a folder with reviews + meta files.")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="amazon2023 (default), amazon2018, amazon2014, google_local, movielens, recbole, "
            "csv, parquet.",
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option(help="Use the embedded All_Beauty 5-core demo data.")
    ] = False,
    k_core: Annotated[int, typer.Option(help="Iterative k-core on users and items (0 = off).")] = 5,
    missing_meta: Annotated[
        str, typer.Option(help="Items with no metadata record: keep, drop or error.")
    ] = "keep",
    split: Annotated[
        str, typer.Option(help="leave_last_out, global_time or user_disjoint.")
    ] = "leave_last_out",
    max_history: Annotated[
        int, typer.Option(help="History items kept per example, most recent (0 = all).")
    ] = 20,
    min_history: Annotated[int, typer.Option(help="Minimum earlier items per example.")] = 1,
    valid_cut: Annotated[
        float, typer.Option(help="global_time: validation cut (fraction of interactions or ms).")
    ] = 0.8,
    test_cut: Annotated[
        float, typer.Option(help="global_time: test cut (fraction of interactions or ms).")
    ] = 0.9,
    valid_users: Annotated[
        float, typer.Option(help="user_disjoint: validation user fraction.")
    ] = 0.1,
    test_users: Annotated[float, typer.Option(help="user_disjoint: test user fraction.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed for the user-disjoint split.")] = 0,
    lenient: Annotated[
        bool,
        typer.Option(help="Skip malformed records (counted in the manifest) instead of failing."),
    ] = False,
    column: Annotated[
        list[str] | None,
        typer.Option(
            help="csv/parquet column mapping CANONICAL=SOURCE, e.g. user_id=uid (repeatable)."
        ),
    ] = None,
    time_unit: Annotated[str, typer.Option(help="csv/parquet timestamp unit: s, ms or iso.")] = "s",
    engine: Annotated[
        str,
        typer.Option(
            help="memory, streaming (out of core, Amazon 2023 JSONL), or auto (streaming above 3 GiB)."
        ),
    ] = "auto",
    memory_limit: Annotated[
        str, typer.Option(help="Memory limit of the streaming engine, e.g. 4GB.")
    ] = "4GB",
    overwrite: Annotated[
        bool,
        typer.Option(
            help="Replace --out even if it is not a dataset or holds other stages' outputs "
            "(they are deleted)."
        ),
    ] = False,
) -> None:
    """Read raw logs into a canonical dataset folder with leakage-safe splits."""
    from profilerec.data.prepare import PrepareConfig, demo_source
    from profilerec.data.prepare import prepare as run_prepare
    from profilerec.data.readers import ReadOptions
    from profilerec.data.splits import SplitConfig

    if demo == (source is not None):
        raise UserError("give either SOURCE or --demo (not both, not neither)")
    if missing_meta not in ("keep", "drop", "error"):
        raise UserError(f"--missing-meta must be keep, drop or error, not {missing_meta!r}")
    if demo and fmt not in (None, "amazon2023"):
        raise UserError("--demo is the Amazon 2023 All_Beauty data; drop --format")
    fmt = fmt or "amazon2023"
    if demo:
        source = demo_source()
    columns = dict(_pair(c) for c in column or [])
    config = PrepareConfig(
        format=fmt,
        k_core=k_core,
        missing_meta=missing_meta,  # type: ignore[arg-type]
        split=SplitConfig(
            kind=split,  # type: ignore[arg-type]
            max_history=max_history,
            min_history=min_history,
            valid_cut=valid_cut,
            test_cut=test_cut,
            valid_users=valid_users,
            test_users=test_users,
            seed=seed,
        ),
        read=ReadOptions(lenient=lenient, columns=columns, time_unit=time_unit),
        engine=engine,
        memory_limit=memory_limit,
    )
    assert source is not None
    with console.status(Text(f"preparing {source} ...")) as status:
        manifest = run_prepare(
            source,
            out_dir,
            config,
            lambda phase: status.update(Text(f"{source}: {phase} ...")),
            overwrite=overwrite,
        )
    print_manifest(manifest, out_dir)
    from profilerec.data.known_stats import check_published  # downloaded data vs the paper's

    for warning in check_published(manifest):
        console.print(f"warning: {warning}", style="yellow")
