"""Model loaders and profile-set parsing shared by several commands (imported lazily, so
``--help`` and argument validation never pay for torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text

from profilerec.cli.app import console
from profilerec.errors import DataError, UserError


def resolve_device(device: str) -> str:
    """``auto`` -> cuda when torch sees a GPU, else cpu; a device this machine lacks is a user error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError) as exc:
        raise UserError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from exc
    if kind == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {device!r}: no GPU is visible to torch here; use cpu")
    if kind not in ("cpu", "cuda"):
        raise UserError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    return device


def make_generator(
    spec: str, adapter: Path | None, batch_size: int, dtype: str = "auto", device: str = "auto"
) -> Any:
    """The generator ``spec`` names; ``--adapter``/``--dtype``/``--device`` apply only to
    transformers and ctranslate2."""
    from profilerec.llm import load_generator

    kwargs: dict[str, object] = {}
    if spec.split(":", 1)[0] in ("transformers", "smollm2"):
        kwargs["batch_size"] = batch_size
        kwargs["device"] = resolve_device(device)
        kwargs["dtype"] = dtype
        if adapter is not None:
            from profilerec.methods.runs import adapter_dir, base_model_of

            kwargs["adapter"] = adapter_dir(adapter)
            base = base_model_of(adapter)
            if spec in ("transformers", "smollm2") and base is not None:
                spec = f"transformers:{base}"
    elif spec.split(":", 1)[0].split("@", 1)[0] == "ctranslate2":
        from profilerec.llm.ct2 import generator_options

        spec, options = generator_options(spec, adapter, dtype)
        kwargs |= options | {"batch_size": batch_size, "device": resolve_device(device)}
    elif adapter is not None:
        raise UserError("--adapter works only with the transformers generator and with ctranslate2")
    elif dtype != "auto":
        raise UserError("--dtype works only with the transformers generator and with ctranslate2")
    elif device != "auto":
        raise UserError("--device works only with the transformers generator and with ctranslate2")
    with console.status(Text(f"loading generator {spec} ...")):
        return load_generator(spec, **kwargs)


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

    from profilerec.evaluate.checks import check_profile_frame
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
