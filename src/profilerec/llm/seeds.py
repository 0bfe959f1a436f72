"""Seeds derived from content, so a rerun samples the same texts whatever ran before."""

from __future__ import annotations

import hashlib
import json

from profilerec.llm.base import Messages


def _hash_int(payload: object, nbytes: int) -> int:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:nbytes], "big") >> 1


def batch_seed(seed: int, prompts: list[Messages]) -> int:
    """Seed for one locally generated batch: a function of the config seed and its prompts."""
    return _hash_int([seed, prompts], 8)


def request_seed(seed: int, prompt: Messages, occurrence: int) -> int:
    """Seed for one request to a server that samples each prompt on its own.

    ``occurrence`` counts earlier copies of the same prompt in the call, so a repeated
    prompt (best-of-N, GRPO groups) samples a different text per copy while reruns
    reproduce every copy. 31 bits, since some servers keep the seed in a signed int32.
    """
    return _hash_int([seed, occurrence, prompt], 4)


def request_seeds(seed: int, prompts: list[Messages]) -> list[int]:
    """``request_seed`` for every prompt of a call, counting repeats in order."""
    seen: dict[str, int] = {}
    seeds = []
    for prompt in prompts:
        key = json.dumps(prompt, sort_keys=True)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        seeds.append(request_seed(seed, prompt, occurrence))
    return seeds
