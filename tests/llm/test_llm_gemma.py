"""The Gemma 3 270M spec on a tiny random Gemma 3 (no download, no wheel needed)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from profilerec.errors import UserError
from profilerec.llm import GenerationConfig, load_generator, parse_spec
from profilerec.llm import gemma as gemma_mod


def _tiny_gemma(folder: Path) -> Path:
    """A random Gemma3ForCausalLM (hidden 32, 2 layers) with the tiny tokenizer, saved."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, GenerationConfig

    from profilerec.llm.tiny import build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    tok.chat_template = None  # a base model: no chat template of its own
    config = Gemma3TextConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=2048,
        sliding_window=64,
        initializer_range=0.5,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Gemma3ForCausalLM(config).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id
    )
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def gemma_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _tiny_gemma(tmp_path_factory.mktemp("gemma") / "g")
    gemma_mod.set_completion_format(folder)
    return folder


def test_spec_names_the_shipped_model() -> None:
    assert parse_spec("gemma3-270m").model == "gemma3-270m"
    assert parse_spec("transformers:gemma3-270m").model == "gemma3-270m"


def test_completion_prompt_is_few_shot_and_ends_at_profile(
    gemma_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gemma_mod, "gemma3_dir", lambda: gemma_dir)
    gen = load_generator("gemma3-270m", batch_size=2)
    assert gen.model_id.startswith(f"{gemma_mod.GEMMA_DIST}==")  # no machine path in it
    prompt = [
        {"role": "system", "content": "You write profiles."},
        {"role": "user", "content": "A customer bought these products:\n1. Solder wire"},
    ]
    text = gen.render(prompt)
    assert text.startswith(gen.tokenizer.bos_token)
    assert text.endswith("1. Solder wire\nProfile:")
    assert "You write profiles" not in text  # a base model gets the list, not instructions
    # the two hand-written examples come first, the user's request after them
    assert text.count("Profile:") == 3
    assert text.index("Stainless steel") < text.index("Solder wire")
    outs = gen.generate([prompt, prompt], GenerationConfig(max_new_tokens=6))
    assert len(outs) == 2 and outs[0] == outs[1]


def test_generation_stops_at_the_folder_stop_tokens(gemma_dir: Path) -> None:
    from transformers import GenerationConfig as HFConfig

    from profilerec.llm.hf import _stop_ids

    class Model:
        generation_config = HFConfig(eos_token_id=[2, 7])

    class Tok:
        eos_token_id = 2

    assert _stop_ids(Model(), Tok()) == [2, 7]
    Model.generation_config = HFConfig(eos_token_id=2)
    assert _stop_ids(Model(), Tok()) == 2


def test_missing_wheel_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def absent(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", absent)
    with pytest.raises(UserError, match=r"profilerec\[gemma\]"):
        gemma_mod.gemma3_dir()
