"""Profile cache keys: a new decoding option must not invalidate the caches written before it."""

from __future__ import annotations

import hashlib
import json

import pytest

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig
from profilerec.profile.stage import cache_key

PROMPT = [{"role": "user", "content": "history"}]


def test_default_key_is_the_key_written_before_ngram_blocking_existed() -> None:
    old_fields = {
        "max_new_tokens": 96,
        "temperature": 0.0,
        "top_p": 1.0,
        "repetition_penalty": 1.15,
        "seed": 0,
    }
    old = hashlib.sha256(json.dumps([PROMPT, "m", old_fields], sort_keys=True).encode()).hexdigest()
    assert cache_key(PROMPT, "m", GenerationConfig()) == old


def test_ngram_blocking_changes_the_key() -> None:
    keys = {cache_key(PROMPT, "m", GenerationConfig(no_repeat_ngram_size=n)) for n in (0, 3, 4)}
    assert len(keys) == 3


def test_negative_ngram_size_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no_repeat_ngram_size"):
        GenerationConfig(no_repeat_ngram_size=-1)
