"""The ctranslate2 backend's model side: finding the source folder and converting it once.

A conversion lives in ``models/ctranslate2/`` of the profilerec cache, named by a hash of the
source folder's model files (and the adapter's), the compute type and the CTranslate2
version, so a retrained or replaced model is converted again and never served from a stale
copy. It is built in a temporary sibling and renamed (``bundled.atomic_dir``).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from profilerec.errors import UserError
from profilerec.llm.bundled import atomic_dir
from profilerec.paths import cache_root

INSTALL_HINT = "pip install 'profilerec[ctranslate2]' (ctranslate2==4.8.5)"
#: Files of a model folder that decide the converted model (weights, config, tokenizer).
_SOURCE_SUFFIXES = (".json", ".safetensors", ".bin", ".model", ".txt", ".jinja")


def import_ct2() -> Any:
    try:
        import ctranslate2
    except ImportError as err:
        raise UserError(
            f"the ctranslate2 backend needs CTranslate2, which is not installed: {INSTALL_HINT}"
        ) from err
    return ctranslate2


def source_digest(folder: Path) -> str:
    """Hash of the model files directly in ``folder`` (names and bytes), so any change to the
    weights, config or tokenizer gives a new conversion key."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(_SOURCE_SUFFIXES))
    if not files:
        raise UserError(f"{folder}: no model files to convert")
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def adapter_digest(folder: Path) -> str:
    """Hash of a PEFT adapter's config and weights."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("adapter_*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _merge_adapter(source: Path, adapter: Path, out: Path) -> None:
    """Save base + LoRA merged into plain float32 weights, the form the converter reads."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, local_files_only=True)
    PeftModel.from_pretrained(model, str(adapter)).merge_and_unload().save_pretrained(out)
    AutoTokenizer.from_pretrained(source, local_files_only=True).save_pretrained(out)


def convert(source: Path, out: Path, compute_type: str, adapter: Path | None = None) -> None:
    """Convert a transformers folder (with ``adapter`` merged in) into ``out``."""
    ct2 = import_ct2()
    with tempfile.TemporaryDirectory(prefix="profilerec-merge-") as merged:
        folder = source
        if adapter is not None:
            _merge_adapter(source, adapter, Path(merged))
            folder = Path(merged)
        try:
            converter = ct2.converters.TransformersConverter(str(folder), low_cpu_mem_usage=True)
            converter.convert(str(out), quantization=compute_type, force=True)
        except (ValueError, NotImplementedError, KeyError) as err:
            raise UserError(f"CTranslate2 cannot convert {source}: {err}") from err


def converted_dir(
    source: Path,
    compute_type: str,
    adapter: Path | None = None,
    *,
    build: Callable[[Path, Path, str, Path | None], None] = convert,
) -> Path:
    """The cached conversion of ``source`` (+ ``adapter``) at ``compute_type``, built once.

    Keyed by the source's file hash, the adapter's hash, the compute type and the
    CTranslate2 version (its model format can change between versions).
    """
    version = import_ct2().__version__
    key = source_digest(source)
    if adapter is not None:
        key = hashlib.sha256(f"{key}+{adapter_digest(adapter)}".encode()).hexdigest()
    name = f"{source.name[:60]}-{key[:16]}-{compute_type}-ct2-{version}"
    target = cache_root() / "models" / "ctranslate2" / name
    if target.is_dir():
        return target

    from rich.console import Console

    console = Console(stderr=True)
    with console.status(
        f"Converting {source.name} to CTranslate2 {compute_type} once into {target}"
    ):
        atomic_dir(target, lambda out: build(source, out, compute_type, adapter))
    return target


def resolve_source(model: str | None, allow_download: bool) -> tuple[Path, str]:
    """(local transformers folder, the stable part of ``model_id``)."""
    if model is None:
        from profilerec.llm.bundled import BUNDLED_MODEL_ID, bundled_smollm2_dir

        return bundled_smollm2_dir(), BUNDLED_MODEL_ID
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise UserError(f"{model}: not a transformers model folder (no config.json)")
        return path.resolve(), str(path.resolve())
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(model, local_files_only=not allow_download))
    except Exception as err:  # the hub client raises several unrelated types
        raise UserError(
            f"model {model!r} is not available offline: it is neither a local folder nor in "
            "the Hugging Face cache"
        ) from err
    return folder, f"{model}@{folder.name}"


def split_adapter_folder(model: str) -> tuple[str, Path | None]:
    """``(base model, adapter)`` for a folder holding only a PEFT adapter, else ``(model, None)``."""
    folder = Path(model).expanduser()
    if not (folder / "adapter_config.json").is_file() or (folder / "config.json").is_file():
        return model, None
    try:
        base = json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"{model}: adapter_config.json names no base model") from err
    if not isinstance(base, str) or not base:
        raise UserError(f"{model}: adapter_config.json names no base model")
    return base, folder
