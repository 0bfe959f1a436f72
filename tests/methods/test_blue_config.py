"""Configs that compose (issue 37): TRL options pass through, RFT shares BLUE's common
options, bf16 is ``auto``, the recommended recipe is the default, old runs still resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from _blue_defaults import BLUE_BEFORE_37, old_blue
from profilerec.configs import from_mapping
from profilerec.errors import UserError
from profilerec.methods.blue.config import DEFAULTS_BEFORE_37, BlueConfig
from profilerec.methods.blue.grpo import grpo_args
from profilerec.methods.blue.trl_options import OWNED, grpo_fields, nest_dotted
from profilerec.methods.profiler_options import ProfilerRunOptions
from profilerec.methods.rft.config import RFTConfig

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_a_trl_option_profilerec_never_names_reaches_grpo_config(tmp_path: Path) -> None:
    assert "max_grad_norm" not in BlueConfig.__dataclass_fields__
    cfg = BlueConfig(trl={"max_grad_norm": 0.25, "logging_steps": 3})
    args = grpo_args(cfg, tmp_path, report_to=[], use_cpu=True)
    assert args.max_grad_norm == 0.25
    assert args.logging_steps == 3  # a profilerec default the user may replace
    assert args.learning_rate == cfg.learning_rate and args.max_steps == cfg.max_steps
    assert args.output_dir == str(tmp_path / "checkpoints")


def test_trainer_builds_its_grpo_config_with_the_trl_block(
    demo_dataset: Path,
    tiny_lm_dir: Path,
    tiny_st_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ``GRPOConfig`` handed to TRL's trainer carries the ``trl:`` option (no training)."""
    import trl

    from profilerec.data.dataset import Dataset
    from profilerec.embed import load_embedder
    from profilerec.methods.blue.trainer import train_blue

    seen: dict[str, Any] = {}

    class Stop(Exception):
        pass

    def fake_trainer(**kw: Any) -> None:
        seen.update(kw)
        raise Stop

    monkeypatch.setattr(trl, "GRPOTrainer", fake_trainer)
    cfg = BlueConfig(
        model=str(tiny_lm_dir),
        num_generations=2,
        prompts_per_step=1,
        train_examples=4,
        eval_examples=2,
        bf16=False,
        trl={"max_grad_norm": 0.125},
    )
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    with pytest.raises(Stop):
        train_blue(Dataset.load(demo_dataset), emb, tmp_path / "run", cfg, progress=False)
    args = seen["args"]
    assert args.max_grad_norm == 0.125
    assert args.reward_weights == [1.0, 0.0]  # embedding, shaping: set once the rewards exist


@pytest.mark.parametrize(
    ("trl", "message"),
    [
        ({"max_grad_nrom": 1.0}, "trl.max_grad_nrom is not a TRL GRPOConfig option; did you mean max_grad_norm"),
        ({"learning_rate": 1e-3}, "trl.learning_rate is set by profilerec from learning_rate"),
        ({"gradient_accumulation_steps": 2}, "from prompts_per_step and micro_batch_size"),
        ("max_grad_norm=1", "trl must be a mapping"),
    ],
)  # fmt: skip
def test_bad_trl_options_are_one_line_errors(trl: Any, message: str) -> None:
    with pytest.raises(UserError) as err:
        BlueConfig(trl=trl)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_value_trl_refuses_is_a_user_error(tmp_path: Path) -> None:
    cfg = BlueConfig(trl={"lr_scheduler_type": "bogus"})
    with pytest.raises(UserError, match="trl: TRL refused the GRPO options"):
        grpo_args(cfg, tmp_path, report_to=[], use_cpu=True)


def test_every_owned_field_is_a_grpo_field() -> None:
    assert set(OWNED) <= grpo_fields()


def test_set_trl_dotted_merges_over_the_yaml_block() -> None:
    yaml_options = {"trl": {"max_grad_norm": 0.5, "logging_steps": 2}}
    sets = nest_dotted({"trl.max_grad_norm": 0.1, "beta": 0.0}, yaml_options)
    assert sets == {"beta": 0.0, "trl": {"max_grad_norm": 0.1, "logging_steps": 2}}
    assert nest_dotted({"beta": 0.0}, yaml_options) == {"beta": 0.0}


@pytest.mark.parametrize(("native", "expected"), [("bfloat16", True), ("float32", False)])
def test_bf16_auto_follows_the_hardware(
    monkeypatch: pytest.MonkeyPatch, native: str, expected: bool
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("profilerec.llm.hf.resolve_dtype", lambda dtype, device="cpu": native)
    assert BlueConfig().bf16 is expected and RFTConfig().bf16 is expected
    assert BlueConfig(bf16=True).bf16 is True and RFTConfig(bf16=False).bf16 is False


def test_bf16_takes_true_false_or_auto() -> None:
    assert from_mapping(BlueConfig, {"bf16": False}, "c.yaml").bf16 is False
    with pytest.raises(UserError, match="bf16"):
        from_mapping(BlueConfig, {"bf16": "yes"}, "c.yaml")


def test_the_recommended_example_is_the_default() -> None:
    assert BlueConfig.from_yaml(EXAMPLES / "blue.yaml").to_dict() == BlueConfig().to_dict()


def test_the_paper_example_is_what_it_was_before_the_defaults_changed() -> None:
    """examples/blue_paper.yaml once left most options to the defaults; it now spells them."""
    paper = BlueConfig.from_yaml(EXAMPLES / "blue_paper.yaml")
    before = BlueConfig(
        **old_blue(
            prompts_per_step=1,
            learning_rate=1e-3,
            max_steps=32,
            max_completion_length=48,
            eval_every=16,
            eval_examples=48,
            save_every=4,
            bf16="auto",
        )
    )
    assert paper.to_dict() == before.to_dict()
    assert BlueConfig.from_yaml(EXAMPLES / "blue_paper.yaml", reward="rlpf").reward == "rlpf"


@pytest.mark.parametrize(
    "path",
    sorted([*EXAMPLES.glob("blue*.yaml"), *(ROOT / "research/blue/configs").glob("*.yaml")]),
    ids=lambda p: p.name,
)
def test_every_blue_config_loads(path: Path) -> None:
    assert BlueConfig.from_yaml(path).max_steps > 0


def test_rlpf_and_judge_read_auto_positives_as_the_next_item() -> None:
    assert BlueConfig().positives_from == "history"
    assert BlueConfig(reward="rlpf").positives_from == "next"
    assert BlueConfig.from_yaml(EXAMPLES / "blue.yaml", reward="judge").positives_from == "next"


def test_a_run_saved_before_issue_37_resumes_with_its_own_options() -> None:
    """The trainer reads a saved config over today's defaults: a run saved with the old
    defaults and no ``trl`` key defines the same run as the config that trained it."""
    from profilerec.methods.blue.trainer import _defining

    trained = BlueConfig(**BLUE_BEFORE_37)
    saved = json.loads(json.dumps({k: v for k, v in trained.to_dict().items() if k != "trl"}))
    before = {**BlueConfig().to_dict(), **DEFAULTS_BEFORE_37, **saved}  # as train_blue reads it
    assert _defining(before) == _defining(trained.to_dict())
    # a run saved before bf16 existed ran in float32, whatever auto says on this machine
    older = {k: v for k, v in saved.items() if k not in ("bf16", "positives_from")}
    assert _defining({**BlueConfig().to_dict(), **DEFAULTS_BEFORE_37, **older}) == _defining(
        trained.to_dict()
    )


def test_rft_shares_the_common_options_and_keeps_its_defaults() -> None:
    assert issubclass(RFTConfig, ProfilerRunOptions) and issubclass(BlueConfig, ProfilerRunOptions)
    shared = {"model", "embedder", "template", "lora_r", "threads", "seed", "history_items"}
    assert shared <= set(ProfilerRunOptions.__dataclass_fields__)
    assert RFTConfig(bf16=False).to_dict() == {
        "model": None, "embedder": "sentence-transformers", "template": "profile",
        "history_items": 5, "history_item_chars": 40, "history_snippet_chars": 0,
        "train_examples": 192, "one_per_user": False, "n_positives": 3,
        "item_text_budget": 300, "n_negatives": 0, "reward_temperature": 0.05,
        "reward_variant": "mrr", "learning_rate": 2e-4, "lora_r": 16, "lora_alpha": 32,
        "lora_dropout": 0.05, "lora_targets": ("q_proj", "k_proj", "v_proj", "o_proj"),
        "bf16": False, "threads": None, "eval_examples": 0, "eval_per_user": 0, "seed": 0,
        "report_to": "none", "num_samples": 4, "sample_temperature": 0.8, "top_p": 0.95,
        "min_gain": 0.0, "max_new_tokens": 48, "gen_batch_size": 16, "rounds": 1,
        "epochs": 2, "batch_size": 8, "engine": "local", "workers": 2, "ray_address": None,
        "worker_gpus": 0.0,
    }  # fmt: skip
