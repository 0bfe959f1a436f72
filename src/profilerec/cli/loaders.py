"""Model loaders and profile-set parsing shared by several commands (imported lazily, so
``--help`` and argument validation never pay for torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text

from profilerec.cli.app import console
from profilerec.errors import DataError, UserError


def make_generator(
    spec: str, adapter: Path | None, batch_size: int, dtype: str = "auto", device: str = "auto"
) -> Any:
    """The generator ``spec`` names (``profile.generators.load_generator``), behind a status
    line; ``--adapter``/``--dtype``/``--device`` apply only to transformers and ctranslate2."""
    from profilerec.profile.generators import load_generator

    with console.status(Text(f"loading generator {spec} ...")):
        return load_generator(
            spec, adapter=adapter, batch_size=batch_size, dtype=dtype, device=device
        )


def make_embedder(spec: str) -> Any:
    """The embedder ``spec`` names, with the shared on-disk embedding cache."""
    from profilerec.embed import load_embedder
    from profilerec.paths import embedding_cache_dir

    with console.status(Text(f"loading embedder {spec} ...")):
        return load_embedder(spec, cache_dir=embedding_cache_dir())


def profile_sets(specs: list[str]) -> dict[str, Any]:
    """``NAME=DIR`` or ``DIR`` options -> {name: profiles frame} (DIR alone: its method name).

    A NAME given twice is refused (a dict would keep the last one silently).
    """
    import polars as pl

    from profilerec.profile.checks import check_profile_frame
    from profilerec.profile.stage import load_profiles

    sets: dict[str, Any] = {}
    for spec in specs:
        name, _, path = spec.rpartition("=")
        try:
            frame = load_profiles(path)
        except pl.exceptions.PolarsError as exc:  # corrupt or truncated: say which file
            raise DataError(path, f"unreadable profiles parquet ({exc})") from None
        check_profile_frame(name or path, frame, path)
        if not name:
            name = str(frame["method"][0]) if "method" in frame.columns and frame.height else path
        if name in sets:
            raise UserError(f"--profiles: the name {name!r} is given twice; name each set once")
        sets[name] = frame
    return sets
