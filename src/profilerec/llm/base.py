"""The Generator protocol: what every LLM backend offers the profile and train stages."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from profilerec.errors import UserError

#: A chat prompt: a list of {"role": "system"|"user"|"assistant", "content": str}.
Messages = list[dict[str, str]]


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings; part of every cache key, so changing one regenerates."""

    #: Maximum new tokens per completion.
    max_new_tokens: int = 96
    #: 0 means greedy decoding; > 0 samples at this temperature.
    temperature: float = 0.0
    #: Nucleus sampling mass (sampling only).
    top_p: float = 1.0
    #: > 1 discourages the small models' habit of echoing the history list.
    repetition_penalty: float = 1.15
    #: > 0 forbids repeating any n-gram of this many tokens (transformers backend only). A
    #: trained profiler can learn to list its history titles over and over (issue 19), which
    #: a repetition penalty of 1.15 does not stop.
    no_repeat_ngram_size: int = 0
    #: Seed for sampling; a batch's seed is derived from it so reruns are identical.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.no_repeat_ngram_size < 0:
            raise UserError(
                f"no_repeat_ngram_size must be >= 0 (0 = off), not {self.no_repeat_ngram_size}"
            )

    def key_fields(self) -> dict[str, object]:
        """The settings that name a cached profile: no_repeat_ngram_size only when set, so the
        caches written before it existed keep their keys."""
        fields = dataclasses.asdict(self)
        if not self.no_repeat_ngram_size:
            del fields["no_repeat_ngram_size"]
        return fields


def refuse_ngram_blocking(config: GenerationConfig, backend: str) -> None:
    """Backends without n-gram blocking fail loudly rather than decode differently."""
    if config.no_repeat_ngram_size:
        raise UserError(
            f"the {backend} backend cannot block repeated n-grams "
            f"(no_repeat_ngram_size={config.no_repeat_ngram_size}); use the transformers backend"
        )


def in_length_batches(
    encoded: list[list[int]],
    prompts: list[Messages],
    batch_size: int,
    generate_batch: Callable[[list[list[int]], list[Messages]], list[str]],
) -> list[str]:
    """Run ``generate_batch`` on prompts sorted by token length and cut into batches, so each
    batch needs little padding (or few idle rows); the texts come back in input order."""
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
    results: list[str] = [""] * len(prompts)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        texts = generate_batch([encoded[i] for i in chunk], [prompts[i] for i in chunk])
        for i, text in zip(chunk, texts, strict=True):
            results[i] = text
    return results


@runtime_checkable
class Generator(Protocol):
    """Turns a batch of chat prompts into completions (assistant text only)."""

    #: Stable identifier of the model (path or id plus revision), used in cache keys.
    model_id: str

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        """One completion per prompt, in order. Implementations batch internally."""
        ...
