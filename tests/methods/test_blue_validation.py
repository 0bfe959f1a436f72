"""Which validation examples a training run profiles to pick its best step."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from profilerec.errors import UserError
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.blue.validation import validation_sample
from profilerec.methods.rft.config import RFTConfig


def _valid() -> pl.DataFrame:
    # user u0 has 20 examples, u1..u9 have 2 each: a plain sample is dominated by u0.
    users = ["u0"] * 20 + [f"u{i}" for i in range(1, 10) for _ in range(2)]
    return pl.DataFrame({"example_id": list(range(len(users))), "user_id": users})


def test_per_user_cap_spreads_the_sample_over_users() -> None:
    got = validation_sample(_valid(), 0, 1, seed=0)
    assert got["user_id"].n_unique() == 10
    assert got.height == 10
    assert got["example_id"].is_sorted()


def test_per_user_cap_then_total_cap() -> None:
    got = validation_sample(_valid(), 12, 2, seed=3)
    assert got.height == 12
    assert got.group_by("user_id").len()["len"].max() <= 2
    # seeded: the same call gives the same examples
    assert got.equals(validation_sample(_valid(), 12, 2, seed=3))
    assert not got.equals(validation_sample(_valid(), 12, 2, seed=4))


def test_zero_means_no_cap() -> None:
    assert validation_sample(_valid(), 0, 0, seed=0).height == 38
    assert validation_sample(_valid(), 5, 0, seed=0).height == 5


def test_negative_caps_are_refused() -> None:
    with pytest.raises(UserError, match="eval_per_user"):
        BlueConfig(eval_per_user=-1)
    with pytest.raises(UserError, match="eval_per_user"):
        RFTConfig(eval_per_user=-1)


def test_disjoint_users_drops_every_training_user() -> None:
    from profilerec.methods.blue.validation import disjoint_users

    train = pl.DataFrame({"user_id": ["u0", "u3", "u3"]})
    got = disjoint_users(_valid(), train)
    assert set(got["user_id"]) == {f"u{i}" for i in range(1, 10)} - {"u3"}
    with pytest.raises(UserError, match="eval_disjoint_users"):
        disjoint_users(_valid(), pl.DataFrame({"user_id": [f"u{i}" for i in range(10)]}))


def test_test_time_model_generates_what_the_policy_does(tiny_lm_dir: Path) -> None:
    """Validation profiles with the model profile --adapter builds; the policy untouched."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from profilerec.llm.base import GenerationConfig
    from profilerec.llm.hf import TransformersGenerator
    from profilerec.methods.blue.validation import _test_time

    model = AutoModelForCausalLM.from_pretrained(tiny_lm_dir)
    tok = AutoTokenizer.from_pretrained(tiny_lm_dir)
    torch.manual_seed(0)
    cfg = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    policy = get_peft_model(model, cfg)
    prompts = [[{"role": "user", "content": f"items {i} and {i + 1}"}] for i in range(3)]
    config = GenerationConfig(max_new_tokens=8)
    before = [p.detach().clone() for p in policy.parameters()]
    gen = _test_time(policy, str(tiny_lm_dir), "float32")
    want = TransformersGenerator.wrap(policy, tok, "p").generate(prompts, config)
    assert gen.generate(prompts, config) == want
    assert "+adapter:" in gen.model_id
    assert all(torch.equal(a, b) for a, b in zip(before, policy.parameters(), strict=True))
    assert not any("lora" in n for n, _ in gen.model.named_modules())
