"""The Generator protocol: what every LLM backend offers the profile and train stages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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
    #: Seed for sampling; a batch's seed is derived from it so reruns are identical.
    seed: int = 0


@runtime_checkable
class Generator(Protocol):
    """Turns a batch of chat prompts into completions (assistant text only)."""

    #: Stable identifier of the model (path or id plus revision), used in cache keys.
    model_id: str

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        """One completion per prompt, in order. Implementations batch internally."""
        ...
