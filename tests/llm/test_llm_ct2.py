"""The ctranslate2 backend: spec grammar, parity with transformers, conversion cache, refusals."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from profilerec.errors import UserError
from profilerec.llm import GeneratorSpec, parse_spec
from profilerec.llm.base import GenerationConfig, Messages
from profilerec.llm.ct2 import CTranslate2Generator
from profilerec.llm.ct2_convert import convert, converted_dir
from profilerec.llm.hf import TransformersGenerator
from profilerec.llm.tiny import save_tiny_causal_lm


def chat(text: str) -> Messages:
    return [{"role": "system", "content": "Write a profile."}, {"role": "user", "content": text}]


WORDS = "face cream serum sunscreen lipstick rose water toner aloe vera gel perfume hair oil comb"
# Different lengths, so batches mix prompts of unequal length (padding in transformers,
# rows that start generating at different steps in CTranslate2).
PROMPTS = [chat(" ".join(WORDS.split()[: 1 + (i * 5) % 13])) for i in range(10)]
GREEDY = GenerationConfig(max_new_tokens=8)


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("ctranslate2", GeneratorSpec("ctranslate2")),
        ("ctranslate2@int8", GeneratorSpec("ctranslate2", compute_type="int8")),
        ("ctranslate2:bundled@float32", GeneratorSpec("ctranslate2", compute_type="float32")),
        ("ctranslate2:/m/lm@int8", GeneratorSpec("ctranslate2", "/m/lm", compute_type="int8")),
        ("ctranslate2:org/model", GeneratorSpec("ctranslate2", "org/model")),
        ("ctranslate2:/a@b/lm", GeneratorSpec("ctranslate2", "/a@b/lm")),
    ],
)
def test_spec_forms(spec: str, parsed: GeneratorSpec) -> None:
    assert parse_spec(spec) == parsed


def test_unknown_compute_type_is_refused() -> None:
    with pytest.raises(UserError, match="unknown CTranslate2 compute type 'int7'"):
        parse_spec("ctranslate2:/m/lm@int7")


#: The backend's own tests need the optional extra (in ``dev``, so CI runs them).
needs_ct2 = pytest.mark.skipif(
    importlib.util.find_spec("ctranslate2") is None, reason="the ctranslate2 extra is not installed"
)


@pytest.fixture(scope="module", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Conversions go to a cache of this module's own, never the user's."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROFILEREC_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def ct2_tiny(tiny_model_dir: Path) -> CTranslate2Generator:
    return CTranslate2Generator(str(tiny_model_dir), batch_size=3, threads=1)


@needs_ct2
@pytest.mark.parametrize(
    "config",
    [
        GenerationConfig(max_new_tokens=20, repetition_penalty=1.0),
        GenerationConfig(max_new_tokens=20, repetition_penalty=1.3),
        GenerationConfig(max_new_tokens=20, repetition_penalty=1.15, no_repeat_ngram_size=3),
        GenerationConfig(max_new_tokens=5, repetition_penalty=1.15),
    ],
)
def test_float32_greedy_equals_transformers(
    ct2_tiny: CTranslate2Generator, tiny_model_dir: Path, config: GenerationConfig
) -> None:
    hf = TransformersGenerator(str(tiny_model_dir), batch_size=3, dtype="float32")
    assert ct2_tiny.generate(PROMPTS, config) == hf.generate(PROMPTS, config)


@needs_ct2
def test_penalty_covers_the_prompt(ct2_tiny: CTranslate2Generator, tiny_model_dir: Path) -> None:
    """The parity above is not vacuous: with CTranslate2's fast prompt forwarding, which
    leaves most of the prompt out of the penalised sequence, the texts differ; so does the
    penalty itself matter."""
    fast = CTranslate2Generator(str(tiny_model_dir), batch_size=3, threads=1, forward_prompt=True)
    assert fast.model_id.endswith("[float32,prompt-forwarded]")
    assert ct2_tiny.model_id.endswith("[float32]")
    plain = GenerationConfig(max_new_tokens=20, repetition_penalty=1.0)
    penalised = GenerationConfig(max_new_tokens=20, repetition_penalty=1.3)
    assert fast.generate(PROMPTS, plain) == ct2_tiny.generate(PROMPTS, plain)
    assert fast.generate(PROMPTS, penalised) != ct2_tiny.generate(PROMPTS, penalised)
    assert ct2_tiny.generate(PROMPTS, plain) != ct2_tiny.generate(PROMPTS, penalised)


@needs_ct2
def test_sampling_is_seeded_per_batch(ct2_tiny: CTranslate2Generator) -> None:
    config = GenerationConfig(max_new_tokens=12, temperature=1.0, seed=7)
    first = ct2_tiny.generate(PROMPTS[:3], config)
    ct2_tiny.generate(PROMPTS[3:], config)  # other draws in between change nothing
    assert ct2_tiny.generate(PROMPTS[:3], config) == first
    assert ct2_tiny.generate(PROMPTS[:3], GenerationConfig(12, 1.0, seed=8)) != first
    # a nucleus this small keeps only the top token: sampling becomes greedy decoding
    narrow = GenerationConfig(max_new_tokens=12, temperature=1.0, top_p=1e-6, seed=7)
    greedy = GenerationConfig(max_new_tokens=12)
    assert ct2_tiny.generate(PROMPTS, narrow) == ct2_tiny.generate(PROMPTS, greedy)


@needs_ct2
def test_conversion_is_cached_and_a_changed_model_reconverted(tmp_path: Path) -> None:
    source = save_tiny_causal_lm(tmp_path / "lm", seed=0)
    builds: list[Path] = []

    def counting(src: Path, out: Path, compute_type: str, adapter: Path | None) -> None:
        builds.append(out)
        convert(src, out, compute_type, adapter)

    first = converted_dir(source, "float32", build=counting)
    assert converted_dir(source, "float32", build=counting) == first
    assert len(builds) == 1 and (first / "model.bin").is_file()
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".tmp-")]

    int8 = converted_dir(source, "int8", build=counting)
    assert int8 != first and len(builds) == 2  # the compute type is part of the key

    text_before = CTranslate2Generator(str(source), threads=1).generate(PROMPTS[:4], GREEDY)
    save_tiny_causal_lm(source, seed=1)  # retrained into the same folder
    changed = converted_dir(source, "float32", build=counting)
    assert changed != first and len(builds) == 3
    text_after = CTranslate2Generator(str(source), threads=1).generate(PROMPTS[:4], GREEDY)
    assert text_after != text_before


@needs_ct2
def test_a_failed_conversion_leaves_nothing_behind(tiny_model_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "lm"
    shutil.copytree(tiny_model_dir, source)

    def killed(src: Path, out: Path, compute_type: str, adapter: Path | None) -> None:
        (out / "model.bin").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        converted_dir(source, "int8_float32", build=killed)
    target = converted_dir(source, "int8_float32")
    assert (target / "model.bin").stat().st_size > 100
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".tmp-")] == []


@needs_ct2
def test_unsupported_compute_type_is_refused(tiny_model_dir: Path) -> None:
    import ctranslate2

    if "float16" in ctranslate2.get_supported_compute_types("cpu"):
        pytest.skip("this CPU runs float16")
    with pytest.raises(UserError, match="CTranslate2 cannot run float16 on this cpu"):
        CTranslate2Generator(str(tiny_model_dir), compute_type="float16")


@needs_ct2
def test_penalty_refused_when_the_first_token_is_not_penalised(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """A template that opens with a token it never repeats: CTranslate2 could not penalise
    it as transformers does, so a penalty is refused before anything is generated."""
    source = tmp_path / "lm"
    shutil.copytree(tiny_model_dir, source)
    template = (source / "chat_template.jinja").read_text()
    (source / "chat_template.jinja").write_text("<|pad|>" + template)
    gen = CTranslate2Generator(str(source), threads=1)
    gen.generator = None  # generating anything would now fail with another error
    with pytest.raises(UserError, match="cannot apply the repetition penalty"):
        gen.generate(PROMPTS[:2], GenerationConfig(repetition_penalty=1.15))
    with pytest.raises(UserError, match="n-gram blocking"):
        gen.generate(PROMPTS[:2], GenerationConfig(repetition_penalty=1.0, no_repeat_ngram_size=3))


def test_dtype_option_names_the_compute_type() -> None:
    from profilerec.llm.ct2 import generator_options

    assert generator_options("ctranslate2", "float32") == (
        "ctranslate2",
        {"compute_type": "float32"},
    )
    assert generator_options("ctranslate2@int8", "auto") == ("ctranslate2@int8", {})
    with pytest.raises(UserError, match="--dtype float32 contradicts the compute type int8"):
        generator_options("ctranslate2@int8", "float32")


@needs_ct2
def test_adapter_is_merged_before_conversion(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A LoRA adapter (random, so it changes the texts) gives the texts transformers gives with
    the same adapter merged."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, lora).save_pretrained(tmp_path / "adapter")
    config = GenerationConfig(max_new_tokens=16)
    hf = TransformersGenerator(
        str(tiny_model_dir), batch_size=3, dtype="float32", adapter=tmp_path / "adapter"
    )
    gen = CTranslate2Generator(str(tiny_model_dir), threads=1, adapter=tmp_path / "adapter")
    assert "+adapter:" in gen.model_id
    texts = gen.generate(PROMPTS, config)
    assert texts == hf.generate(PROMPTS, config)
    plain = CTranslate2Generator(str(tiny_model_dir), threads=1)
    assert texts != plain.generate(PROMPTS, config)
    # the adapter folder alone (an unmerged `profilerec export`) names its base model
    alone = CTranslate2Generator(str(tmp_path / "adapter"), threads=1)
    assert alone.model_id == gen.model_id and alone.generate(PROMPTS, config) == texts
