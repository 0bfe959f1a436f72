"""``select``: best-of-N profiles by how well each covers the user's own recent history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profilerec.cli.app import app, out


@app.command()
def select(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    candidates: Annotated[
        list[Path],
        typer.Option(
            help="Candidate profile folder (repeatable, at least two; e.g. the greedy profiles "
            "and `profile --temperature 0.8 --seed K` samples). Ties go to the first."
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the chosen profiles.")],
    split: Annotated[
        list[str] | None,
        typer.Option(help="Split(s) to select for (repeatable; default: all of the first set)."),
    ] = None,
    coverage_items: Annotated[
        int, typer.Option(min=1, help="Most recent history items a profile should retrieve.")
    ] = 5,
    score: Annotated[str, typer.Option(help="Score form: rank, mrr, ndcg or margin.")] = "rank",
    method: Annotated[
        str | None, typer.Option(help="Method name of the output (default NAME+best_of_N).")
    ] = None,
    embedder: Annotated[
        str,
        typer.Option(
            help="sentence-transformers (bundled MiniLM), sentence-transformers:ID_OR_PATH, "
            "openai:MODEL@URL."
        ),
    ] = "sentence-transformers",
    overwrite: Annotated[
        bool,
        typer.Option(
            help="Replace --out even when it is not a selection this command wrote (refused "
            "otherwise: replacing would delete another stage's output)."
        ),
    ] = False,
) -> None:
    """Keep, per example, the candidate profile whose embedding best retrieves the user's
    most recent history items (no target or later item is used)."""
    import json

    from profilerec.atomic import check_target
    from profilerec.data.dataset import Dataset
    from profilerec.embed import load_embedder
    from profilerec.outputs import check_out
    from profilerec.paths import embedding_cache_dir
    from profilerec.profile.select import CONFIG_FILE, OWNED, SelectConfig, run_select

    check_out(out_dir, "profile set", inputs=[dataset, *candidates])
    check_target(out_dir, CONFIG_FILE, "selection", OWNED, overwrite)
    config = SelectConfig(
        coverage_items=coverage_items,
        score=score,
        method=method,
        splits=tuple(dict.fromkeys(split or ())),
    )
    ds = Dataset.load(dataset)
    emb = load_embedder(embedder, cache_dir=embedding_cache_dir())
    path = run_select(ds, list(candidates), out_dir, config, emb, overwrite=overwrite)
    out.print(f"chosen profiles written to {path} (scores in selection.parquet)")
    unfilled = json.loads((out_dir / CONFIG_FILE).read_text())["unfilled"]
    if unfilled:
        out.print(f"note: {unfilled} examples have no non-empty candidate; their profile is empty")
