"""``profilerec serve``: the HTTP API and web page (FastAPI + uvicorn, the ``serve`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profilerec.cli.app import app
from profilerec.errors import UserError


@app.command()
def serve(
    dataset: Annotated[Path, typer.Argument(help="A prepared dataset folder.")],
    profiles: Annotated[
        list[str] | None, typer.Option("--profiles", help="NAME=DIR of a profile set (repeatable).")
    ] = None,
    generator: Annotated[
        str, typer.Option(help="LLM spec for POST /v1/profiles.")
    ] = "transformers",
    no_generator: Annotated[
        bool,
        typer.Option(
            "--no-generator", help="Serve without a generator (POST /v1/profiles answers 503)."
        ),
    ] = False,
    adapter: Annotated[
        Path | None, typer.Option(help="A train RUN folder or adapter for the generator.")
    ] = None,
    embedder: Annotated[
        str, typer.Option(help="Embedder spec for items, histories and profiles.")
    ] = "sentence-transformers",
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).")] = 8000,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            help="Environment variable holding the API key that POST routes require (X-API-Key header)."
        ),
    ] = None,
    queue: Annotated[
        int, typer.Option(help="Profile generations waiting or running before 503 + Retry-After.")
    ] = 4,
    evaluation: Annotated[
        Path | None,
        typer.Option(
            help="An evaluate folder (or its metrics.json): serve exactly the methods it reports "
            "(SASRec and tuned hybrids included), fitted and weighted as it chose them. "
            "Without it: popularity, item-kNN, history_text, mean_history and the profile "
            "sets, untuned, no hybrid."
        ),
    ] = None,
) -> None:
    """Serve profiles and recommendations over HTTP, with a web page at /."""
    try:
        from profilerec.serve.run import ServeConfig, run_server
    except ImportError as exc:
        raise UserError(
            f"serve needs the serve extra: pip install 'profilerec[serve]' ({exc})"
        ) from exc
    from profilerec.cli.loaders import make_embedder

    if adapter is not None and no_generator:
        raise UserError("--adapter needs a generator; drop --no-generator")
    config = ServeConfig(
        dataset=dataset,
        profiles=profiles or [],
        generator=None if no_generator else generator,
        embedder=embedder,
        host=host,
        port=port,
        api_key_env=api_key_env,
        queue_capacity=queue,
        evaluation=evaluation,
    )
    run_server(
        config,
        make_generator=None if no_generator else lambda: _profiler(generator, adapter),
        make_embedder=lambda: make_embedder(embedder),
    )


def _profiler(generator: str, adapter: Path | None) -> object:
    """The server's profiler: a trained run asked in the history format it trained on
    (``Profiler.from_run``), else the untrained model; one prompt per request."""
    from profilerec.profile.profiler import Profiler
    from profilerec.serve.load import AD_HOC_GENERATION

    if adapter is not None:
        return Profiler.from_run(
            adapter, generator=generator, batch_size=1, generation=AD_HOC_GENERATION
        )
    return Profiler.from_spec(generator, batch_size=1, generation=AD_HOC_GENERATION)
