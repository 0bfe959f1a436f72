"""Check the arguments, then start uvicorn with an app that loads everything in its lifespan."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.serve.state import ServeState, build_state, parse_profile_args


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
    #: Text weight of the ``hybrid:NAME`` methods (item-kNN fused with profile set NAME).
    hybrid_weight: float = 0.5


def check(config: ServeConfig) -> tuple[str | None, dict[str, Path]]:
    """Everything cheap, before any model loads: the dataset, profile folders, port, key."""
    Dataset.load(config.dataset)
    profiles = parse_profile_args(config.profiles)
    for name, path in profiles.items():
        if not path.exists():
            raise UserError(f"--profiles {name}={path}: no such folder or file")
    if not 0.0 <= config.hybrid_weight <= 1.0:
        raise UserError(f"--hybrid-weight must be in [0, 1], got {config.hybrid_weight}")
    if not 0 <= config.port <= 65535:
        raise UserError(f"--port must be 0..65535, got {config.port}")
    if config.queue_capacity < 1:
        raise UserError("--queue must be at least 1")
    key = None
    if config.api_key_env:
        key = os.environ.get(config.api_key_env)
        if not key:
            raise UserError(
                f"--api-key-env {config.api_key_env}: that environment variable is empty or unset"
            )
    return key, profiles


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
        hybrid_weight=config.hybrid_weight,
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
    app = create_app(
        lambda: loader(config, profiles, make_generator, make_embedder),
        api_key=key,
        queue_capacity=config.queue_capacity,
    )
    uvicorn.run(app, host=config.host, port=config.port, log_level="info")
