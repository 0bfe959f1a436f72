"""LLM backends behind one protocol, chosen by a spec string.

Backends are imported only when chosen, so ``import profilerec.llm`` stays cheap and an
absent optional extra only matters to the user who asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Generator, Messages

__all__ = [
    "GenerationConfig",
    "Generator",
    "GeneratorSpec",
    "Messages",
    "load_generator",
    "parse_spec",
]

SPEC_FORMS = (
    "transformers (or smollm2): the bundled SmolLM2-135M-Instruct",
    "transformers:ID_OR_PATH: a Hugging Face model id or local folder",
    "gemma3-270m: Gemma 3 270M base with a few-shot completion prompt (the gemma extra; "
    "Gemma terms)",
    "openai:MODEL@BASE_URL: an OpenAI-compatible server, e.g. openai:qwen@http://localhost:8000/v1",
    "llamacpp:PATH.gguf: a GGUF file run by llama.cpp",
    "vllm:ID_OR_PATH (or vllm:bundled): vLLM's in-process engine (the vllm extra, GPU machines)",
    "ctranslate2[:ID_OR_PATH][@COMPUTE_TYPE]: CTranslate2 (the ctranslate2 extra), e.g. "
    "ctranslate2 (bundled SmolLM2, float32) or ctranslate2:bundled@int8",
)

_OPENAI = re.compile(r"^(?P<model>.+?)@(?P<url>https?://\S+)$")


@dataclass(frozen=True)
class GeneratorSpec:
    """A parsed spec: which backend, which model, (openai only) which server and
    (ctranslate2 only) which compute type."""

    backend: str
    #: Model id or path; None for the bundled model.
    model: str | None = None
    base_url: str | None = None
    compute_type: str | None = None


def _invalid(spec: str, why: str) -> UserError:
    forms = "; ".join(SPEC_FORMS)
    return UserError(f"invalid LLM spec {spec!r}: {why}. Valid forms: {forms}")


def parse_spec(spec: str) -> GeneratorSpec:
    """Split a spec string into its parts, checking its form (no model is loaded)."""
    text = spec.strip()
    if text in ("transformers", "smollm2"):
        return GeneratorSpec("transformers")
    if text == "gemma3-270m":
        return GeneratorSpec("transformers", text)
    if text == "ctranslate2" or text.startswith(("ctranslate2:", "ctranslate2@")):
        from profilerec.llm.ct2 import split_compute_type

        model, compute_type = split_compute_type(text.removeprefix("ctranslate2").lstrip(":"))
        return GeneratorSpec("ctranslate2", model, compute_type=compute_type)
    prefix, sep, rest = text.partition(":")
    rest = rest.strip()
    if not sep or prefix not in ("transformers", "openai", "llamacpp", "vllm"):
        raise _invalid(spec, f"unknown backend {prefix!r}")
    if not rest:
        raise _invalid(spec, f"{prefix}: needs a model after the colon")
    if prefix == "transformers":
        return GeneratorSpec("transformers", rest)
    if prefix == "vllm":
        return GeneratorSpec("vllm", None if rest == "bundled" else rest)
    if prefix == "openai":
        match = _OPENAI.match(rest)
        if match is None:
            raise _invalid(spec, "openai: needs MODEL@BASE_URL with an http(s) URL")
        return GeneratorSpec("openai", match["model"], match["url"])
    if not rest.lower().endswith(".gguf"):
        raise _invalid(spec, "llamacpp: needs the path of a .gguf file")
    return GeneratorSpec("llamacpp", rest)


def load_generator(spec: str, **kwargs: Any) -> Generator:
    """Build the generator a spec names; ``kwargs`` go to the backend's constructor."""
    parsed = parse_spec(spec)
    if parsed.backend == "transformers":
        from profilerec.llm.hf import TransformersGenerator

        return TransformersGenerator(parsed.model, **kwargs)
    if parsed.backend == "openai":
        from profilerec.llm.openai_compat import OpenAIGenerator

        assert parsed.model is not None and parsed.base_url is not None
        return OpenAIGenerator(parsed.model, parsed.base_url, **kwargs)
    if parsed.backend == "ctranslate2":
        from profilerec.llm.ct2 import CTranslate2Generator

        if parsed.compute_type is not None:
            kwargs["compute_type"] = parsed.compute_type
        return CTranslate2Generator(parsed.model, **kwargs)
    if parsed.backend == "vllm":
        from profilerec.llm.vllm import VLLMGenerator

        return VLLMGenerator(parsed.model, **kwargs)
    from profilerec.llm.llamacpp import LlamaCppGenerator

    assert parsed.model is not None
    return LlamaCppGenerator(parsed.model, **kwargs)
