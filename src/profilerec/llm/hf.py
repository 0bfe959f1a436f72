"""The default backend: a local transformers causal LM, batched on CPU or GPU."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages, in_length_batches
from profilerec.llm.seeds import batch_seed

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DTYPE_CHOICES = ("auto", *_DTYPES)


def resolve_dtype(dtype: str, device: str = "cpu") -> str:
    """``auto`` -> ``bfloat16`` where the hardware runs it natively, else ``float32``.

    Measured on the 2-core AVX-512 machine (docs/benchmarks.md, generation): bfloat16
    generates 1.8x the tokens/s of float32 at the same batch, because CPU decoding is bound
    by reading the weights and oneDNN has native bf16 dot products there. Without them
    (no avx512_bf16/AMX) bf16 is emulated and slower, so ``auto`` keeps float32.
    """
    if dtype not in DTYPE_CHOICES:
        raise UserError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPE_CHOICES)}")
    if dtype != "auto":
        return dtype
    if device.startswith("cuda"):
        return (
            "bfloat16"
            if torch.cuda.is_available() and torch.cuda.is_bf16_supported()
            else "float32"
        )
    if device == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return "bfloat16"
    return "float32"


def _file_digest(folder: Path) -> str:
    """Short content hash of an adapter's weights, so retraining into the same folder
    changes ``model_id`` (and so invalidates cached generations)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("adapter_model.*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Use ``threads`` intra-op threads for the block, then restore the process setting."""
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class TransformersGenerator:
    """Chat completions from a transformers causal LM.

    Args:
        model: A Hugging Face id (found in the local hub cache only) or a local folder;
            ``None`` means the bundled SmolLM2-135M-Instruct.
        batch_size: Prompts per ``model.generate`` call. Larger batches are much faster
            on CPU (24 tok/s at 1, 145 tok/s at 32 for SmolLM2-135M on 2 cores).
        dtype: ``auto`` (bfloat16 where the CPU/GPU runs it natively, else float32),
            ``float32``, ``bfloat16`` or ``float16``.
        device: torch device string.
        adapter: Folder of a PEFT LoRA adapter to apply on top of the model.
        threads: torch intra-op threads during generation (``None`` = torch's default).
        allow_download: Let transformers fetch a missing model from the hub.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        batch_size: int = 16,
        dtype: str = "auto",
        device: str = "cpu",
        adapter: str | Path | None = None,
        threads: int | None = None,
        allow_download: bool = False,
    ) -> None:
        if batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {batch_size}")
        dtype = resolve_dtype(dtype, device)
        self.batch_size = batch_size
        self.threads = threads
        source, base_id = self._resolve(model)
        self.tokenizer, self.model = self._load(source, model, _DTYPES[dtype], allow_download)
        if model is not None and not Path(model).exists() and source == model:
            revision = getattr(self.model.config, "_commit_hash", None)
            base_id = f"{model}@{revision}" if revision else model
        if adapter is not None:
            adapter_dir = Path(adapter).expanduser().resolve()
            if not (adapter_dir / "adapter_config.json").is_file():
                raise UserError(f"{adapter}: not a PEFT adapter folder (no adapter_config.json)")
            from peft import PeftModel

            # Merged into the base weights: an unmerged LoRA adds two small matmuls per
            # projection to every decoding step, and inference never needs them apart.
            self.model = PeftModel.from_pretrained(self.model, str(adapter_dir)).merge_and_unload()
            base_id = f"{base_id}+adapter:{adapter_dir}#{_file_digest(adapter_dir)}"
        self.model.to(device).eval()
        # Half precision decodes differently, so it must not share fp32's cached texts.
        self.model_id = base_id if dtype == "float32" else f"{base_id}[{dtype}]"

    @classmethod
    def wrap(
        cls, model: Any, tokenizer: Any, model_id: str, *, batch_size: int = 16
    ) -> TransformersGenerator:
        """A generator over a model already in memory (e.g. a policy being trained)."""
        self = cls.__new__(cls)
        self.batch_size = batch_size
        self.threads = None
        self.model, self.tokenizer, self.model_id = model, tokenizer, model_id
        _prepare_tokenizer(tokenizer, model_id)
        return self

    @staticmethod
    def _resolve(model: str | None) -> tuple[str, str]:
        """(what to pass to from_pretrained, the stable part of model_id)."""
        from profilerec.llm.named import resolve_named

        if (named := resolve_named(model)) is not None:
            return named
        assert model is not None
        path = Path(model).expanduser()
        if path.exists():
            # adapter_config.json alone: an unmerged `profilerec export` (or any PEFT folder);
            # transformers loads the base it names and applies the adapter
            if not any((path / f).is_file() for f in ("config.json", "adapter_config.json")):
                raise UserError(f"{model}: not a transformers model folder (no config.json)")
            return str(path.resolve()), str(path.resolve())
        return model, model

    @staticmethod
    def _load(
        source: str, name: str | None, dtype: torch.dtype, allow_download: bool
    ) -> tuple[Any, Any]:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=not allow_download)
            model = AutoModelForCausalLM.from_pretrained(
                source, dtype=dtype, local_files_only=not allow_download
            )
        except OSError as err:
            if allow_download:
                raise UserError(f"cannot load model {name!r}: {err}") from err
            raise UserError(
                f"model {name!r} is not available offline: it is neither a local folder nor in "
                "the Hugging Face cache (pass a local path, or allow downloads where a hub is "
                "reachable)"
            ) from err
        _prepare_tokenizer(tokenizer, name or source)
        return tokenizer, model

    def render(self, prompt: Messages) -> str:
        """The prompt as the model sees it (chat template plus the assistant header)."""
        return self.tokenizer.apply_chat_template(
            prompt, add_generation_prompt=True, tokenize=False
        )

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        """One completion per prompt, in order.

        Prompts are sorted by token length and cut into batches so that each batch needs
        little padding; left padding keeps every prompt's last token at the end.
        """
        if not prompts:
            return []
        encoded = [
            self.tokenizer(self.render(p), add_special_tokens=False)["input_ids"] for p in prompts
        ]
        with _torch_threads(self.threads), torch.inference_mode():
            return in_length_batches(
                encoded,
                prompts,
                self.batch_size,
                lambda ids, batch: self._generate_batch(ids, batch, config),
            )

    def _generate_batch(
        self, input_ids: list[list[int]], prompts: list[Messages], config: GenerationConfig
    ) -> list[str]:
        from transformers import GenerationConfig as HFGenerationConfig

        batch = self.tokenizer.pad(
            {"input_ids": input_ids}, padding=True, padding_side="left", return_tensors="pt"
        ).to(self.model.device)
        sample = config.temperature > 0
        settings: dict[str, Any] = {
            "max_new_tokens": config.max_new_tokens,
            "do_sample": sample,
            "repetition_penalty": config.repetition_penalty,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": _stop_ids(self.model, self.tokenizer),
        }
        if config.no_repeat_ngram_size:
            settings["no_repeat_ngram_size"] = config.no_repeat_ngram_size
        if sample:
            # top_k=0 disables transformers' implicit top-k of 50, so sampling means the
            # same (temperature + nucleus) as on an OpenAI-compatible server.
            settings |= {"temperature": config.temperature, "top_p": config.top_p, "top_k": 0}
        # fork_rng: seed this batch without changing the caller's torch RNG stream.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(batch_seed(config.seed, prompts))
            output = self.model.generate(**batch, generation_config=HFGenerationConfig(**settings))
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return [text.strip() for text in texts]


def _stop_ids(model: Any, tokenizer: Any) -> int | list[int]:
    """The tokenizer's end token plus any the model's folder adds (a base model with a
    completion template stops at the blank line after its profile: llm/gemma.py)."""
    extra = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    extra = [] if extra is None else [extra] if isinstance(extra, int) else list(extra)
    stops = [tokenizer.eos_token_id, *(i for i in extra if i != tokenizer.eos_token_id)]
    return stops[0] if len(stops) == 1 else stops


def _prepare_tokenizer(tokenizer: Any, name: str) -> None:
    """Check for a chat template and make the tokenizer pad on the left."""
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(
            f"model {name!r} has no chat template; use an instruction-tuned (chat) model"
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
