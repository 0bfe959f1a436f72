from __future__ import annotations

from pathlib import Path

import pytest
import torch

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages
from profilerec.llm.hf import TransformersGenerator
from profilerec.llm.tiny import tiny_causal_lm

GREEDY = GenerationConfig(max_new_tokens=8, temperature=0.0, repetition_penalty=1.0)
SAMPLE = GenerationConfig(max_new_tokens=8, temperature=1.0, top_p=1.0, seed=7)


def chat(text: str) -> Messages:
    return [{"role": "system", "content": "Write a profile."}, {"role": "user", "content": text}]


# Different lengths, so sorting by length reorders them and batches need padding.
PROMPTS = [
    chat("a much longer prompt about face cream, serum, sunscreen and a lipstick"),
    chat("hi"),
    chat("rose water toner, aloe vera gel"),
    chat("the user likes perfume"),
    chat("x"),
]


def reference_greedy(model, tokenizer, prompt: Messages, config: GenerationConfig) -> str:
    """Greedy decoding by hand: argmax of the penalised last-position logits, one at a time."""
    text = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    new: list[int] = []
    with torch.no_grad():
        for _ in range(config.max_new_tokens):
            logits = model(torch.tensor([ids + new])).logits[0, -1].clone()
            seen = torch.tensor(sorted(set(ids + new)))
            scores = logits[seen]
            p = config.repetition_penalty
            logits[seen] = torch.where(scores > 0, scores / p, scores * p)
            if n := config.no_repeat_ngram_size:
                # ban every token that would complete an n-gram already in prompt + output
                seq = ids + new
                head = tuple(seq[len(seq) - n + 1 :])
                for i in range(len(seq) - n + 1):
                    if tuple(seq[i : i + n - 1]) == head:
                        logits[seq[i + n - 1]] = float("-inf")
            token = int(logits.argmax())
            if token == tokenizer.eos_token_id:
                break
            new.append(token)
    return tokenizer.decode(new, skip_special_tokens=True).strip()


@pytest.mark.parametrize("penalty", [1.0, 1.3])
def test_greedy_matches_hand_decoding(
    tiny_generator: TransformersGenerator, penalty: float
) -> None:
    config = GenerationConfig(max_new_tokens=8, temperature=0.0, repetition_penalty=penalty)
    expected = [
        reference_greedy(tiny_generator.model, tiny_generator.tokenizer, p, config) for p in PROMPTS
    ]
    assert tiny_generator.generate(PROMPTS, config) == expected
    assert len(set(expected)) == len(PROMPTS)  # distinct, so an order mix-up would show


def test_repetition_penalty_changes_greedy_text(tiny_generator: TransformersGenerator) -> None:
    plain = tiny_generator.generate(PROMPTS, GREEDY)
    penalised = tiny_generator.generate(
        PROMPTS, GenerationConfig(max_new_tokens=8, repetition_penalty=1.3)
    )
    assert plain != penalised


def test_one_string_per_prompt_in_order_whatever_the_batching(
    tiny_generator: TransformersGenerator,
) -> None:
    together = tiny_generator.generate(PROMPTS, GREEDY)
    alone = [tiny_generator.generate([p], GREEDY)[0] for p in PROMPTS]
    reversed_call = tiny_generator.generate(PROMPTS[::-1], GREEDY)[::-1]
    assert len(together) == len(PROMPTS)
    assert together == alone == reversed_call
    assert tiny_generator.generate([], GREEDY) == []


def test_greedy_is_deterministic_and_ignores_the_seed(
    tiny_generator: TransformersGenerator,
) -> None:
    first = tiny_generator.generate(PROMPTS, GREEDY)
    other_seed = GenerationConfig(max_new_tokens=8, repetition_penalty=1.0, seed=99)
    assert tiny_generator.generate(PROMPTS, GREEDY) == first
    assert tiny_generator.generate(PROMPTS, other_seed) == first


def test_sampling_is_reproducible_per_seed(tiny_generator: TransformersGenerator) -> None:
    first = tiny_generator.generate(PROMPTS, SAMPLE)
    tiny_generator.generate([chat("something else runs in between")], SAMPLE)
    torch.manual_seed(12345)  # nor does the caller's global seed matter
    again = tiny_generator.generate(PROMPTS, SAMPLE)
    other = tiny_generator.generate(
        PROMPTS, GenerationConfig(max_new_tokens=8, temperature=1.0, seed=8)
    )
    greedy = tiny_generator.generate(PROMPTS, GREEDY)
    assert again == first
    assert other != first
    assert first != greedy


def test_sampling_leaves_the_callers_rng_alone(tiny_generator: TransformersGenerator) -> None:
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    tiny_generator.generate(PROMPTS[:2], SAMPLE)
    assert torch.equal(torch.rand(4), expected)


def test_repeated_prompt_samples_different_texts(tiny_generator: TransformersGenerator) -> None:
    a, b, c = tiny_generator.generate([PROMPTS[2]] * 3, SAMPLE)
    assert len({a, b, c}) > 1


def test_threads_setting_is_restored(tiny_model_dir: Path) -> None:
    before = torch.get_num_threads()
    generator = TransformersGenerator(str(tiny_model_dir), threads=before + 1)
    generator.generate(PROMPTS[:1], GREEDY)
    assert torch.get_num_threads() == before


def test_wrap_an_in_memory_model_gives_the_same_texts(
    tiny_generator: TransformersGenerator,
) -> None:
    model, tokenizer = tiny_causal_lm(seed=0)
    wrapped = TransformersGenerator.wrap(model.eval(), tokenizer, "tiny-in-memory")
    assert wrapped.model_id == "tiny-in-memory"
    assert wrapped.generate(PROMPTS, GREEDY) == tiny_generator.generate(PROMPTS, GREEDY)


def test_lora_adapter_is_applied(tiny_model_dir: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    model, tokenizer = tiny_causal_lm(seed=0)
    lora = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        peft_model = get_peft_model(model, lora).eval()
    peft_model.save_pretrained(tmp_path / "adapter")

    generator = TransformersGenerator(
        str(tiny_model_dir), adapter=tmp_path / "adapter", dtype="float32"
    )
    expected = [reference_greedy(peft_model, tokenizer, p, GREEDY) for p in PROMPTS]
    base = TransformersGenerator(str(tiny_model_dir), dtype="float32").generate(PROMPTS, GREEDY)
    assert generator.generate(PROMPTS, GREEDY) == expected
    assert expected != base
    resolved = str((tmp_path / "adapter").resolve())
    assert generator.model_id.startswith(f"{tiny_model_dir.resolve()}+adapter:{resolved}#")


def test_missing_adapter_is_a_user_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a PEFT adapter folder"):
        TransformersGenerator(str(tiny_model_dir), adapter=tmp_path)


def test_unknown_model_id_is_not_available_offline() -> None:
    with pytest.raises(UserError, match="'no-such-org/no-such-model' is not available offline"):
        TransformersGenerator("no-such-org/no-such-model")


def test_folder_without_config_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a transformers model folder"):
        TransformersGenerator(str(tmp_path))


def test_model_id_names_a_non_default_dtype(tiny_model_dir: Path) -> None:
    generator = TransformersGenerator(str(tiny_model_dir), dtype="bfloat16")
    assert generator.model_id == f"{tiny_model_dir.resolve()}[bfloat16]"
    assert next(generator.model.parameters()).dtype == torch.bfloat16


def test_auto_dtype_follows_native_bf16_support(monkeypatch: pytest.MonkeyPatch) -> None:
    from profilerec.llm import hf

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert hf.resolve_dtype("auto") == "bfloat16"
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert hf.resolve_dtype("auto") == "float32"
    assert hf.resolve_dtype("float16") == "float16"  # an explicit choice is kept
    with pytest.raises(UserError, match="unknown dtype 'fp8'"):
        hf.resolve_dtype("fp8")


def test_bad_settings_are_user_errors(tiny_model_dir: Path) -> None:
    with pytest.raises(UserError, match="unknown dtype 'fp8'"):
        TransformersGenerator(str(tiny_model_dir), dtype="fp8")
    with pytest.raises(UserError, match="batch_size must be at least 1"):
        TransformersGenerator(str(tiny_model_dir), batch_size=0)


def test_model_without_chat_template_is_a_user_error() -> None:
    model, tokenizer = tiny_causal_lm()
    tokenizer.chat_template = None
    with pytest.raises(UserError, match="has no chat template"):
        TransformersGenerator.wrap(model, tokenizer, "plain")


def test_no_repeat_ngram_matches_hand_decoding(tiny_generator: TransformersGenerator) -> None:
    # A random tiny model greedily loops, so blocking repeated bigrams changes its texts.
    plain = GenerationConfig(max_new_tokens=24, repetition_penalty=1.0)
    blocked = GenerationConfig(max_new_tokens=24, repetition_penalty=1.0, no_repeat_ngram_size=2)
    model, tok = tiny_generator.model, tiny_generator.tokenizer
    expected = [reference_greedy(model, tok, p, blocked) for p in PROMPTS]
    assert tiny_generator.generate(PROMPTS, blocked) == expected
    assert expected != tiny_generator.generate(PROMPTS, plain)
