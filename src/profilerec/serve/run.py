"""Check the arguments, then start uvicorn with an app that loads everything in its lifespan."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.serve.load import build_state, parse_profile_args, served_examples
from profilerec.serve.types import ServeState


@dataclass
class ServeConfig:
    dataset: Path
    #: ``NAME=DIR`` profile sets.
    profiles: list[str] = field(default_factory=list)
    generator: str | None = "transformers"
    embedder: str = "sentence-transformers"
    cache_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    #: Name of the environment variable holding the API key for POST routes.
    api_key_env: str | None = None
    queue_capacity: int = 4
    #: An evaluate folder (or its metrics.json): serve exactly its methods, as it fitted,
    #: fused and ranked them. None: the untuned methods only (``serve.evaluated``).
    evaluation: Path | None = None


def check(config: ServeConfig) -> tuple[str | None, dict[str, Path]]:
    """Everything cheap, before any model loads: the dataset, profile folders, port, key."""
    ds = Dataset.load(config.dataset)
    profiles = parse_profile_args(config.profiles)
    for name, path in profiles.items():
        if not path.exists():
            raise UserError(f"--profiles {name}={path}: no such folder or file")
        check_served_profiles(name, path, served_examples(ds))
    if config.evaluation is not None:
        from profilerec.serve.evaluated import read_evaluation

        read_evaluation(
            config.evaluation, ds
        )  # another dataset's, unreadable: now, not after loading
    if not 0 <= config.port <= 65535:
        raise UserError(f"--port must be 0..65535, got {config.port}")
    if config.queue_capacity < 1:
        raise UserError("--queue must be at least 1")
    _check_port_free(config.host, config.port)
    key = None
    if config.api_key_env:
        key = os.environ.get(config.api_key_env)
        if not key:
            raise UserError(
                f"--api-key-env {config.api_key_env}: that environment variable is empty or unset"
            )
    return key, profiles


def _check_port_free(host: str, port: int) -> None:
    """A busy port is reported now, not after the models have loaded (~11 s on the demo)."""
    import socket

    if port == 0:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as exc:
        raise UserError(f"--host {host}: cannot resolve it ({exc})") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise UserError(
                f"--port {port}: cannot listen on {host} ({exc.strerror or exc}); "
                "choose another --port (0 = any free port)"
            ) from None


def check_served_profiles(name: str, path: Path, examples: Any) -> None:
    """evaluate's checks of a profile set, before uvicorn starts (a set of another dataset
    was once a startup traceback): readable, one row per example, the served users' own
    rows, no empty text for a served user (each is shown and ranked by)."""
    import polars as pl

    from profilerec.errors import DataError
    from profilerec.evaluate.checks import check_profile_set
    from profilerec.profile.stage import load_profiles

    try:
        frame = load_profiles(path)
    except pl.exceptions.PolarsError as exc:
        raise DataError(path, f"unreadable profiles parquet ({exc})") from None
    check_profile_set(name, examples, frame, str(path))
    served = frame.filter(pl.col("example_id").is_in(examples["example_id"].implode()))
    empty = served.filter(pl.col("profile").str.strip_chars() == "")
    if empty.height:
        raise UserError(
            f"profiles {name!r} ({path}): {empty.height} of the {examples.height} served users "
            f"have an empty profile text (first user {empty['user_id'][0]}); write them again"
        )


Factory = Callable[[], Any]


def loader(
    config: ServeConfig,
    profiles: dict[str, Path],
    make_generator: Factory | None = None,
    make_embedder: Factory | None = None,
) -> ServeState:
    """The lifespan's load step; the CLI passes its own model loaders (adapter handling)."""
    from profilerec.embed import load_embedder
    from profilerec.llm import load_generator
    from profilerec.paths import embedding_cache_dir

    embedder = (
        make_embedder
        or (
            lambda: load_embedder(
                config.embedder, cache_dir=config.cache_dir or embedding_cache_dir()
            )
        )
    )()
    generator = None
    if config.generator is not None:
        spec = config.generator
        generator = (make_generator or (lambda: load_generator(spec)))()
    return build_state(
        config.dataset,
        embedder,
        profiles=profiles,
        generator=generator,
        evaluation=config.evaluation,
        progress=lambda m: print(m, flush=True),
    )


def run_server(
    config: ServeConfig, make_generator: Factory | None = None, make_embedder: Factory | None = None
) -> None:
    import uvicorn

    from profilerec.serve.app import create_app

    key, profiles = check(config)
    print(
        f"loading, then serving {config.dataset} on http://{config.host}:{config.port}/ (API docs at /docs)",
        flush=True,
    )
    failed: list[BaseException] = []

    def stop(exc: BaseException) -> None:  # a failed load stops the server, then is raised
        failed.append(exc)
        server.should_exit = True

    app = create_app(
        lambda: loader(config, profiles, make_generator, make_embedder),
        api_key=key,
        queue_capacity=config.queue_capacity,
        on_load_error=stop,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=config.host, port=config.port, log_level="info")
    )
    server.run()
    if failed:
        raise failed[0]
