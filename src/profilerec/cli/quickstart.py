"""``quickstart``: the main job end to end on the embedded demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profilerec.cli.app import DtypeOption, app, console, out
from profilerec.cli.loaders import make_embedder, make_generator
from profilerec.cli.tables import print_manifest, print_metrics, print_slices
from profilerec.errors import UserError


@app.command()
def quickstart(
    out_dir: Annotated[Path, typer.Option("--out", help="Run folder.")] = Path("runs/demo"),
    generator: Annotated[
        str, typer.Option(help="Profiler LLM spec (see `profile --help`).")
    ] = "transformers",
    embedder: Annotated[
        str, typer.Option(help="Embedder spec (see `evaluate --help`).")
    ] = "sentence-transformers",
    limit: Annotated[
        int,
        typer.Option(min=0, help="Profile and evaluate only the first N test users (0 = all)."),
    ] = 0,
    max_new_tokens: Annotated[int, typer.Option(help="Maximum profile length in tokens.")] = 64,
    batch_size: Annotated[
        int, typer.Option(help="Prompts per generation batch (CPU throughput peaks near 16).")
    ] = 16,
    train: Annotated[
        bool, typer.Option(help="Also train the profiler with BLUE (a short CPU run) and compare.")
    ] = False,
    train_steps: Annotated[int, typer.Option(help="GRPO steps with --train.")] = 20,
    dtype: DtypeOption = "auto",
) -> None:
    """The main job on the embedded demo: prepare, profile, evaluate every method, write report.html."""
    import dataclasses

    from profilerec.llm.base import GenerationConfig
    from profilerec.quickstart import QuickstartConfig, run_quickstart

    config = QuickstartConfig(limit=limit, train=train)
    config.profile = dataclasses.replace(
        config.profile,
        batch_size=batch_size,
        generation=GenerationConfig(max_new_tokens=max_new_tokens),
    )
    base = generator.partition(":")[2] if generator.startswith("transformers:") else None
    if train and base is None and generator not in ("transformers", "smollm2"):
        raise UserError("--train trains a local model: use a transformers generator")
    config.blue = dataclasses.replace(
        config.blue, max_steps=train_steps, embedder=embedder, model=base
    )
    done = run_quickstart(
        out_dir,
        config,
        lambda adapter: make_generator(generator, adapter, batch_size, dtype),
        make_embedder(embedder),
        console=console,
    )
    print_manifest(done["manifest"], out_dir / "dataset")
    print_metrics(done["result"])
    print_slices(done["result"])
    out.print(f"report: {done['report']}   ({done['seconds']:.0f} s in all)")
