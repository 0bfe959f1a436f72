"""``--engine local|ray --workers N --ray-address --worker-gpus`` for ``profile``, ``evaluate``,
``proex-profiles``, ``pte-profiles`` and ``train --method rft``.

Not a command module: the option types and the builders that turn them into a generator
(or ``RayRunner``) and an embedder (or a cached ``RayEmbedder``). Options are checked
before any model loads or Ray starts.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from profilerec.cli.app import console
from profilerec.errors import UserError

ENGINES = ("local", "ray")

EngineOption = Annotated[
    str,
    typer.Option(help="local (this process) or ray (a Ray Data actor pool; needs the ray extra)."),
]
WorkersOption = Annotated[int, typer.Option(help="--engine ray: actors in the pool.")]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        help="--engine ray: join this cluster (auto, ray://HOST:10001); default starts a local Ray."
    ),
]
WorkerGpusOption = Annotated[
    float, typer.Option(help="--engine ray: GPUs each actor reserves (e.g. 1 on GPU nodes).")
]

#: ``train``'s: given only for rft (``None`` = not given, so a YAML ``engine:`` applies).
TrainEngineOption = Annotated[
    str | None,
    typer.Option(
        help="rft: where each round's candidates are generated: local (this process, the "
        "default) or ray (a Ray Data actor pool loading the round's saved policy; the ray "
        "extra). Refused for the other methods."
    ),
]
TrainWorkersOption = Annotated[
    int | None, typer.Option(help="rft --engine ray: actors in the pool.")
]
TrainWorkerGpusOption = Annotated[
    float | None, typer.Option(help="rft --engine ray: GPUs each actor reserves.")
]


def ray_options(engine: str, workers: int, address: str | None, gpus: float) -> Any:
    """The checked RayOptions for ``--engine ray``; None for local (ray flags then refused)."""
    if engine not in ENGINES:
        raise UserError(f"--engine must be local or ray, not {engine!r}")
    if engine == "local":
        if address is not None or gpus:
            raise UserError("--ray-address and --worker-gpus need --engine ray")
        return None
    from profilerec.engines.ray_cluster import RayOptions, import_ray

    options = RayOptions(workers=workers, address=address, gpus_per_worker=gpus)
    options.check()
    import_ray()  # a missing extra is reported before any model loads
    return options


def refuse_engine_flags(
    method: str,
    allowed: bool,
    engine: str | None,
    workers: int | None,
    address: str | None,
    gpus: float | None,
) -> None:
    """``train``'s ``--engine`` and Ray flags (``None`` = not given): a bad engine, or the Ray
    ones for a method that cannot use them, refused in one line, never silently ignored."""
    if engine is not None and engine not in ENGINES:
        raise UserError(f"--engine must be local or ray, not {engine!r}")
    if allowed:
        return
    given = {
        f"--engine {engine}": engine not in (None, "local"),
        "--workers": workers is not None,
        "--ray-address": address is not None,
        "--worker-gpus": gpus is not None,
    }
    wrong = [flag for flag, on in given.items() if on]
    if wrong:
        where = {"proex": "; use it on proex-profiles", "pte": "; use it on pte-profiles"}
        raise UserError(
            f"{', '.join(wrong)} does not apply to --method {method}: of the train methods "
            f"only rft generates on Ray{where.get(method, '')}"
        )


def make_runner(
    options: Any, spec: str, adapter: Path | None, batch_size: int, dtype: str, device: str = "auto"
) -> Any:
    """A generator for local runs, or a RayRunner whose actors each build that generator.

    The actors call the same ``make_generator`` as a local run, so ``--adapter``/``--dtype``
    mean the same on both engines (an adapter path must be readable on every node).
    """
    from profilerec.cli.loaders import make_generator

    if options is None:
        return make_generator(spec, adapter, batch_size, dtype, device)
    from profilerec.engines.ray_profile import RayRunner
    from profilerec.llm import parse_spec

    parse_spec(spec)  # a malformed spec fails here, before Ray starts
    with console.status(f"starting Ray actors for {spec} ..."):
        return RayRunner(partial(make_generator, spec, adapter, batch_size, dtype, device), options)


def make_engine_embedder(options: Any, spec: str) -> Any:
    """The cached embedder; with Ray, the cache sits on the driver and misses go to actors."""
    from profilerec.cli.loaders import make_embedder

    if options is None:
        return make_embedder(spec)
    from profilerec.embed import CachedEmbedder, load_embedder
    from profilerec.engines.ray_embed import RayEmbedder
    from profilerec.paths import embedding_cache_dir

    with console.status(f"starting Ray actors for {spec} ..."):
        inner = RayEmbedder(partial(load_embedder, spec), options)
    return CachedEmbedder(inner, embedding_cache_dir())
