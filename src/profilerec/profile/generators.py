"""The generator a spec names, with a trained adapter applied the way its run was trained.

Moved out of the CLI (issue 37) so that a Python user, the CLI and the server load a
trained profiler the same way: a run folder names its base model, and the adapter's weights
are checked before any model loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from profilerec.errors import UserError
from profilerec.llm.base import Generator


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


def load_generator(
    spec: str = "transformers",
    *,
    adapter: str | Path | None = None,
    batch_size: int = 16,
    dtype: str = "auto",
    device: str = "auto",
) -> Generator:
    """The generator ``spec`` names (``profilerec.llm.SPEC_FORMS``).

    ``adapter`` (a ``profilerec train`` run folder or an adapter folder), ``dtype`` and
    ``device`` apply only to transformers and ctranslate2; with the default spec, a run
    folder's own base model is loaded under its adapter.
    """
    from profilerec import llm  # looked up per call: tests replace llm.load_generator

    kwargs: dict[str, Any] = {}
    adapter = Path(adapter) if adapter is not None else None
    if spec.split(":", 1)[0] in ("transformers", "smollm2"):
        kwargs["batch_size"] = batch_size
        kwargs["device"] = resolve_device(device)
        kwargs["dtype"] = dtype
        if adapter is not None:
            from profilerec.profile.runs import adapter_dir, base_model_of

            kwargs["adapter"] = adapter_dir(adapter)
            base = base_model_of(adapter)
            if spec in ("transformers", "smollm2") and base is not None:
                spec = f"transformers:{base}"
    elif spec.split(":", 1)[0].split("@", 1)[0] == "ctranslate2":
        from profilerec.llm.ct2 import generator_options, on_base

        spec, options = generator_options(spec, dtype)
        if adapter is not None:
            from profilerec.profile.runs import adapter_dir, base_model_of

            options["adapter"] = adapter_dir(adapter)
            spec = on_base(spec, base_model_of(adapter))
        kwargs |= options | {"batch_size": batch_size, "device": resolve_device(device)}
    elif adapter is not None:
        raise UserError("--adapter works only with the transformers generator and with ctranslate2")
    elif dtype != "auto":
        raise UserError("--dtype works only with the transformers generator and with ctranslate2")
    elif device != "auto":
        raise UserError("--device works only with the transformers generator and with ctranslate2")
    return llm.load_generator(spec, **kwargs)
