from __future__ import annotations

from pathlib import Path

import pytest

from profilerec.errors import UserError
from profilerec.llm import GeneratorSpec, load_generator, parse_spec
from profilerec.llm.hf import TransformersGenerator
from profilerec.llm.openai_compat import OpenAIGenerator


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("transformers", GeneratorSpec("transformers")),
        ("smollm2", GeneratorSpec("transformers")),
        (" smollm2 ", GeneratorSpec("transformers")),
        (
            "transformers:HuggingFaceTB/SmolLM2-360M",
            GeneratorSpec("transformers", "HuggingFaceTB/SmolLM2-360M"),
        ),
        ("transformers:/models/my model", GeneratorSpec("transformers", "/models/my model")),
        ("transformers:C:/models/x", GeneratorSpec("transformers", "C:/models/x")),
        (
            "openai:Qwen/Qwen2.5-7B@http://localhost:8000/v1",
            GeneratorSpec("openai", "Qwen/Qwen2.5-7B", "http://localhost:8000/v1"),
        ),
        # Ollama-style names hold a colon; a URL may hold user@host.
        (
            "openai:llama3:8b@https://u@example.org/v1",
            GeneratorSpec("openai", "llama3:8b", "https://u@example.org/v1"),
        ),
        ("llamacpp:/m/SmolLM2.Q4_1.gguf", GeneratorSpec("llamacpp", "/m/SmolLM2.Q4_1.gguf")),
        ("llamacpp:model.GGUF", GeneratorSpec("llamacpp", "model.GGUF")),
    ],
)
def test_parse_spec_forms(spec: str, expected: GeneratorSpec) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("sglang:Qwen", "unknown backend 'sglang'"),
        ("gpt-4o", "unknown backend 'gpt-4o'"),
        ("", "unknown backend ''"),
        ("transformers:", "needs a model after the colon"),
        ("openai:gpt-4o", "needs MODEL@BASE_URL"),
        ("openai:gpt-4o@localhost:8000", "needs MODEL@BASE_URL"),
        ("openai:@http://localhost:8000/v1", "needs MODEL@BASE_URL"),
        ("llamacpp:/m/model.bin", "needs the path of a .gguf file"),
    ],
)
def test_parse_spec_errors_list_the_valid_forms(spec: str, why: str) -> None:
    with pytest.raises(UserError) as info:
        parse_spec(spec)
    message = str(info.value)
    assert why in message
    for form in ("transformers:ID_OR_PATH", "openai:MODEL@BASE_URL", "llamacpp:PATH.gguf"):
        assert form in message


def test_load_generator_builds_each_backend(tiny_model_dir: Path) -> None:
    local = load_generator(f"transformers:{tiny_model_dir}", batch_size=3, dtype="float32")
    assert isinstance(local, TransformersGenerator)
    assert local.batch_size == 3
    assert local.model_id == str(tiny_model_dir.resolve())

    remote = load_generator("openai:m1@http://127.0.0.1:9/v1/", concurrency=2)
    assert isinstance(remote, OpenAIGenerator)
    assert remote.url == "http://127.0.0.1:9/v1/chat/completions"
    assert remote.model_id == "openai:m1@http://127.0.0.1:9/v1"


def test_load_generator_rejects_unknown_spec_before_loading_anything() -> None:
    with pytest.raises(UserError, match="unknown backend 'hf'"):
        load_generator("hf:gpt2")
