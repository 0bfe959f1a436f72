"""Model loaders and profile-set parsing shared by several commands (imported lazily, so
``--help`` and argument validation never pay for torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from profilerec.cli.app import console
from profilerec.errors import UserError


def make_generator(spec: str, adapter: Path | None, batch_size: int, dtype: str = "auto") -> Any:
    """The generator ``spec`` names; ``--adapter``/``--dtype`` apply only to transformers."""
    from profilerec.llm import load_generator

    kwargs: dict[str, object] = {}
    if spec.split(":", 1)[0] in ("transformers", "smollm2"):
        kwargs["batch_size"] = batch_size
        kwargs["dtype"] = dtype
        if adapter is not None:
            from profilerec.methods.blue.trainer import adapter_dir, base_model_of

            kwargs["adapter"] = adapter_dir(adapter)
            base = base_model_of(adapter)
            if spec in ("transformers", "smollm2") and base is not None:
                spec = f"transformers:{base}"
    elif adapter is not None:
        raise UserError("--adapter works only with the transformers generator")
    elif dtype != "auto":
        raise UserError("--dtype works only with the transformers generator")
    with console.status(f"loading generator {spec} ..."):
        return load_generator(spec, **kwargs)


def make_embedder(spec: str) -> Any:
    """The embedder ``spec`` names, with the shared on-disk embedding cache."""
    from profilerec.embed import load_embedder
    from profilerec.paths import embedding_cache_dir

    with console.status(f"loading embedder {spec} ..."):
        return load_embedder(spec, cache_dir=embedding_cache_dir())


def profile_sets(specs: list[str]) -> dict[str, Any]:
    """``NAME=DIR`` or ``DIR`` options -> {name: profiles frame} (DIR alone: its method name)."""
    from profilerec.profile.stage import load_profiles

    sets = {}
    for spec in specs:
        name, _, path = spec.rpartition("=")
        frame = load_profiles(path)
        sets[name or str(frame["method"][0])] = frame
    return sets
