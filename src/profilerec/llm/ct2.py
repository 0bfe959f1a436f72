"""Optional backend: a transformers model converted once to CTranslate2 (``ctranslate2:``).

CTranslate2 is an inference engine with CPU wheels; issue 31 measured it at 2.7x (float32)
and 3.3x (int8) transformers' profiles/min on a 2-core CPU with the prompts forwarded at once,
the mode that does not match transformers' penalty (below). It is an optional extra imported
only when chosen. The source folder is converted once into the profilerec model cache
(``models/ctranslate2/``), keyed by a hash of the folder's files, the compute type and the
CTranslate2 version, so a retrained or replaced model is converted again and never served
from a stale copy; the conversion is written to a temporary folder and renamed.

Decoding follows ``GenerationConfig`` as the transformers backend does, repetition penalty
included. transformers penalises every token of ``input_ids`` (the prompt as well as the
text generated so far); CTranslate2 penalises the tokens of its decoding sequence only.
That sequence holds the prompt (minus its first token) only when the prompt is decoded step
by step, ``include_prompt_in_result=True``; the faster default of forwarding the shortest
prompt at once (``False``) leaves most of the prompt unpenalised and changes the greedy texts
(30 of 32 demo profiles in issue 31). So under a penalty the prompt is decoded step by step
(one decoder step per prompt token: the price of parity, which ``forward_prompt=True`` declines),
and the first token, which CTranslate2 never penalises, must occur again in the prompt
(ChatML's ``<|im_start|>`` does, at every turn); where it does not, a penalty is refused.
Without a penalty nothing reads the prompt's tokens and it is forwarded at once. The
remaining gap is numeric: CTranslate2's float32 kernels round differently from torch's, which
can flip a near-tie in greedy decoding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages, in_length_batches
from profilerec.llm.ct2_convert import (
    adapter_digest,
    converted_dir,
    import_ct2,
    resolve_source,
    split_adapter_folder,
)
from profilerec.llm.seeds import batch_seed

#: Compute types CTranslate2 knows; which ones a machine runs is asked at load time.
COMPUTE_TYPES = (
    "float32",
    "int8",
    "int8_float32",
    "int16",
    "float16",
    "bfloat16",
    "int8_float16",
    "int8_bfloat16",
)
#: float32 is the compute type checked for parity with transformers; int8 is opt-in.
DEFAULT_COMPUTE_TYPE = "float32"


def split_compute_type(rest: str) -> tuple[str | None, str | None]:
    """``MODEL@TYPE`` -> (model or None for the bundled one, compute type or None).

    The text after the last ``@`` is a compute type when it holds no ``/`` (a path or hub id
    with an ``@`` keeps it); an unknown type is an error rather than part of a model name.
    """
    model, sep, suffix = rest.rpartition("@")
    if not sep or "/" in suffix:
        model, suffix = rest, ""
    if suffix and suffix not in COMPUTE_TYPES:
        raise UserError(
            f"unknown CTranslate2 compute type {suffix!r}; choose one of {', '.join(COMPUTE_TYPES)}"
        )
    model = model.strip()
    return (None if model in ("", "bundled") else model), (suffix or None)


#: ``--dtype`` values and the compute type each means here (``auto`` = the spec's or float32).
DTYPE_COMPUTE_TYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


def generator_options(spec: str, dtype: str) -> tuple[str, dict[str, object]]:
    """What the CLI's ``--dtype`` means for a ``ctranslate2`` spec (``--adapter``: :func:`on_base`).

    ``--dtype`` names the compute type as ``@TYPE`` does (a clash between the two is an
    error, not a silent choice).
    """
    from profilerec.llm import parse_spec

    parsed = parse_spec(spec)
    options: dict[str, object] = {}
    if dtype != "auto":
        if dtype not in DTYPE_COMPUTE_TYPES:
            raise UserError(
                f"--dtype {dtype}: use float32, bfloat16 or float16 (or @int8 in the spec)"
            )
        wanted = DTYPE_COMPUTE_TYPES[dtype]
        if parsed.compute_type not in (None, wanted):
            raise UserError(
                f"--dtype {dtype} contradicts the compute type {parsed.compute_type} in {spec!r}; "
                "give one of them"
            )
        options["compute_type"] = wanted
    return spec, options


def on_base(spec: str, base: str | None) -> str:
    """``spec`` moved onto ``base``, the model an ``--adapter RUN`` was trained from, when it
    names the bundled model (its compute type kept), as for transformers; the caller reads
    the run (``profile/generators.py``), and the adapter is merged before conversion."""
    from profilerec.llm import parse_spec

    parsed = parse_spec(spec)
    if parsed.model is None and base is not None:
        suffix = f"@{parsed.compute_type}" if parsed.compute_type else ""
        return f"ctranslate2:{base}{suffix}"
    return spec


def _ct2_device(device: str) -> tuple[str, int]:
    kind, _, index = device.partition(":")
    if kind not in ("cpu", "cuda"):
        raise UserError(f"unknown device {device!r} for ctranslate2; use cpu, cuda or cuda:N")
    return kind, int(index or 0)


class CTranslate2Generator:
    """Chat completions from a CTranslate2 conversion of a transformers causal LM.

    Args:
        model: Hugging Face id (local cache only) or local folder; ``None`` = the bundled
            SmolLM2-135M-Instruct. A PEFT adapter folder (e.g. an unmerged ``profilerec
            export``) means the base model it names with that adapter.
        compute_type: CTranslate2 compute type; ``float32`` is the one checked against
            transformers, ``int8`` the smallest.
        batch_size: Prompts per ``generate_batch`` call, sorted by length.
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        adapter: A PEFT LoRA folder, merged into the weights before conversion (cached
            per adapter content).
        threads: CTranslate2 intra-op threads (``None`` = its default, ``OMP_NUM_THREADS``
            or 4).
        allow_download: Let the hub client fetch a missing model.
        forward_prompt: Forward each batch's prompts at once even under a repetition penalty
            or n-gram blocking, as CTranslate2 does by default: faster (no step per prompt
            token), but the penalty then misses the first ``shortest prompt - 1`` tokens of
            every prompt, so the texts differ from transformers'. Off by default; a separate
            ``model_id``, so its texts never mix with the exact ones.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        compute_type: str = DEFAULT_COMPUTE_TYPE,
        batch_size: int = 16,
        device: str = "cpu",
        adapter: str | Path | None = None,
        threads: int | None = None,
        allow_download: bool = False,
        forward_prompt: bool = False,
    ) -> None:
        ct2 = import_ct2()
        if batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {batch_size}")
        if compute_type not in COMPUTE_TYPES:
            raise UserError(
                f"unknown CTranslate2 compute type {compute_type!r}; "
                f"choose one of {', '.join(COMPUTE_TYPES)}"
            )
        self.device, self.device_index = _ct2_device(device)
        supported = sorted(ct2.get_supported_compute_types(self.device, self.device_index))
        if compute_type not in supported:
            raise UserError(
                f"CTranslate2 cannot run {compute_type} on this {self.device}; "
                f"it supports {', '.join(supported)}"
            )
        self.batch_size = batch_size
        self.compute_type = compute_type
        self.threads = threads
        self.forward_prompt = forward_prompt
        if model is not None and adapter is None:
            model, adapter = split_adapter_folder(model)
        source, base_id = resolve_source(model, allow_download)
        adapter_dir = None
        if adapter is not None:
            adapter_dir = Path(adapter).expanduser().resolve()
            if not (adapter_dir / "adapter_config.json").is_file():
                raise UserError(f"{adapter}: not a PEFT adapter folder (no adapter_config.json)")
            base_id = f"{base_id}+adapter:{adapter_dir}#{adapter_digest(adapter_dir)[:12]}"
        self.model_dir = converted_dir(source, compute_type, adapter_dir)
        from transformers import AutoTokenizer

        from profilerec.llm.hf import _prepare_tokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        _prepare_tokenizer(self.tokenizer, model or base_id)
        self.generator = self._load()
        # Different kernels from transformers (and int8 weights): never share cached texts.
        mode = ",prompt-forwarded" if forward_prompt else ""
        self.model_id = f"ctranslate2:{base_id}[{compute_type}{mode}]"

    def _load(self) -> Any:
        ct2 = import_ct2()
        return ct2.Generator(
            str(self.model_dir),
            device=self.device,
            device_index=self.device_index,
            compute_type=self.compute_type,
            intra_threads=self.threads or 0,
        )

    def render(self, prompt: Messages) -> str:
        """The prompt as the model sees it (chat template plus the assistant header)."""
        return self.tokenizer.apply_chat_template(
            prompt, add_generation_prompt=True, tokenize=False
        )

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        """One completion per prompt, in order, in batches of prompts of similar length."""
        if not prompts:
            return []
        encoded = [
            self.tokenizer(self.render(p), add_special_tokens=False)["input_ids"] for p in prompts
        ]
        penalised = config.repetition_penalty != 1.0 or config.no_repeat_ngram_size > 0
        if penalised and not self.forward_prompt:
            for ids, prompt in zip(encoded, prompts, strict=True):
                check_first_token(ids, prompt)
        return in_length_batches(
            encoded,
            prompts,
            self.batch_size,
            lambda ids, batch: self._generate_batch(ids, batch, config),
        )

    def _generate_batch(
        self, input_ids: list[list[int]], prompts: list[Messages], config: GenerationConfig
    ) -> list[str]:
        generator = self.generator
        # Without penalties nothing reads the prompt's tokens: forward it at once.
        forward = self.forward_prompt or (
            config.repetition_penalty == 1.0 and not config.no_repeat_ngram_size
        )
        options = decoding_options(config, input_ids, self.tokenizer.eos_token_id, forward)
        if config.temperature > 0:
            # CTranslate2 seeds a worker thread's generator once, at its first draw, from the
            # global seed; only a fresh engine (new worker thread) takes a new seed, which
            # keeps a batch's samples independent of what ran before it (resume = rerun).
            ct2 = import_ct2()
            ct2.set_random_seed(batch_seed(config.seed, prompts) % 2**32)
            generator = self._load()
        tokens = [self.tokenizer.convert_ids_to_tokens(ids) for ids in input_ids]
        outputs = generator.generate_batch(tokens, **options)
        texts = []
        for ids, output in zip(input_ids, outputs, strict=True):
            sequence = list(output.sequences_ids[0])
            new = (sequence if forward else completion_ids(ids, sequence))[: config.max_new_tokens]
            texts.append(self.tokenizer.decode(new, skip_special_tokens=True).strip())
        return texts


def check_first_token(ids: list[int], prompt: Messages) -> None:
    """Refuse a penalty CTranslate2 would apply to fewer tokens than transformers does.

    CTranslate2 never puts the first prompt token into the sequence it penalises (nor into
    the n-grams it blocks); that is harmless only where the token occurs again in the prompt.
    """
    if ids and ids[0] not in ids[1:]:
        raise UserError(
            "the ctranslate2 backend cannot apply the repetition penalty (or n-gram blocking) "
            "to a prompt's first token, and this model's prompts start with a token that does "
            "not recur, so its texts would differ from transformers'; set repetition_penalty=1 "
            f"and no_repeat_ngram_size=0, or use the transformers backend (prompt: {prompt!r:.80})"
        )


def decoding_options(
    config: GenerationConfig, input_ids: list[list[int]], end_id: int, forward: bool = False
) -> dict[str, Any]:
    """``generate_batch`` arguments meaning what GenerationConfig means for transformers.

    The prompt is decoded step by step (``include_prompt_in_result=True``) so that the
    penalties see it; ``max_length`` then counts the prompt, so it is a bound and a callback
    stops each row after exactly ``max_new_tokens`` new tokens. ``forward`` forwards the
    prompts at once instead (results then hold the new tokens only). Decoding ends at
    ``end_id`` (the tokenizer's EOS, the end of the assistant's turn), as transformers is
    told to. Sampling is temperature plus nucleus with top-k off (0), as in the other backends.
    """
    lengths = [len(ids) for ids in input_ids]
    limit = config.max_new_tokens
    sampling: dict[str, Any] = {}
    if config.temperature > 0:
        sampling = {
            "sampling_topk": 0,
            "sampling_temperature": config.temperature,
            "sampling_topp": config.top_p,
        }
    penalties = {
        "end_token": [end_id],
        "repetition_penalty": config.repetition_penalty,
        "no_repeat_ngram_size": config.no_repeat_ngram_size,
    }
    if forward:
        return {"max_length": limit, "include_prompt_in_result": False, **penalties, **sampling}

    def stop_after_limit(step: Any) -> bool:
        # Step s decodes position s + 1; the prompt occupies positions 0 .. len - 1.
        return step.step + 2 - lengths[step.batch_id] >= limit

    return {
        "max_length": max(lengths) + limit,
        "include_prompt_in_result": True,
        "callback": stop_after_limit,
        **penalties,
        **sampling,
    }


def completion_ids(prompt_ids: list[int], sequence: list[int]) -> list[int]:
    """The new tokens of a result that repeats the prompt (with or without its first token,
    which CTranslate2 drops when it is the vocabulary's BOS)."""
    if sequence[: len(prompt_ids)] == prompt_ids:
        return sequence[len(prompt_ids) :]
    if sequence[: len(prompt_ids) - 1] == prompt_ids[1:]:
        return sequence[len(prompt_ids) - 1 :]
    raise RuntimeError("CTranslate2 returned a sequence that does not start with the prompt")
