"""Non-finite training is stopped and never kept; a non-finite adapter is refused (issue 32)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from _blue_defaults import old_blue
from profilerec.errors import UserError
from profilerec.methods.blue.validation import BlueCallback, FiniteCallback
from profilerec.profile.finite import check_adapter
from profilerec.profile.runs import adapter_dir


def _lora(tiny_lm_dir: Path) -> torch.nn.Module:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_lm_dir))
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], task_type="CAUSAL_LM")
    return get_peft_model(base, config)


def _poison(model: torch.nn.Module) -> None:
    with torch.no_grad():
        next(p for p in model.parameters() if p.requires_grad)[0, 0] = float("nan")


def test_a_non_finite_weight_stops_training_before_the_step_is_saved(tiny_lm_dir: Path) -> None:
    model = _lora(tiny_lm_dir)
    state = SimpleNamespace(global_step=7)
    FiniteCallback().on_step_end(None, state, None, model=model)  # finite: goes on
    _poison(model)
    with pytest.raises(UserError, match=r"training diverged at step 7: 1 of .* NaN or inf"):
        FiniteCallback().on_step_end(None, state, None, model=model)


def test_a_non_finite_loss_stops_training() -> None:
    state = SimpleNamespace(global_step=3)
    FiniteCallback().on_log(None, state, None, logs={"loss": 0.5})
    with pytest.raises(UserError, match="at step 3: the loss is nan"):
        FiniteCallback().on_log(None, state, None, logs={"loss": float("nan")})


def test_a_diverged_model_is_never_saved_as_best(tiny_lm_dir: Path, tmp_path: Path) -> None:
    model = _lora(tiny_lm_dir)
    _poison(model)

    def validator(*args: object) -> None:
        raise AssertionError("a diverged model must not even be validated")

    callback = BlueCallback(tmp_path, validator, None, every=1)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="training diverged at step 4"):
        callback.validate(4, model)
    assert not (tmp_path / "best_adapter").exists() and not (tmp_path / "best.json").exists()


def test_an_adapter_with_non_finite_weights_is_refused(tiny_lm_dir: Path, tmp_path: Path) -> None:
    model = _lora(tiny_lm_dir)
    model.save_pretrained(str(tmp_path / "good"))
    assert adapter_dir(tmp_path / "good") == tmp_path / "good"
    _poison(model)
    model.save_pretrained(str(tmp_path / "run" / "best_adapter"))
    with pytest.raises(UserError, match=r"adapter_model\.safetensors: 1 of .* NaN or inf"):
        adapter_dir(tmp_path / "run")


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"r": 4}', "\x00\xff"])
def test_a_malformed_adapter_config_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "adapter_config.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(UserError, match=r"malformed adapter_config\.json"):
        check_adapter(tmp_path)


def test_a_finite_adapter_config_passes(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    check_adapter(tmp_path)


@pytest.mark.parametrize(
    ("lr", "why"),
    [(1e30, "the model's outputs are not finite"), (1e39, "trainable weight tensors hold NaN")],
)
def test_a_diverging_run_stops_and_keeps_no_non_finite_adapter(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path, lr: float, why: str
) -> None:
    """An absurd learning rate (config validation refuses inf and NaN; 1e39 overflows float32
    weights, 1e30 only their outputs) diverges at the first step: the run stops with the
    error, and what it keeps is finite."""
    from profilerec.data.dataset import Dataset
    from profilerec.embed import load_embedder
    from profilerec.methods.blue.config import BlueConfig
    from profilerec.methods.blue.trainer import train_blue

    cfg = BlueConfig(
        **old_blue(  # the defaults before issue 37
            model=str(tiny_lm_dir),
            max_steps=3,
            num_generations=2,
            prompts_per_step=1,
            max_completion_length=4,
            train_examples=4,
            eval_examples=2,
            eval_every=1,
            save_every=1,
            learning_rate=lr,
            weight_next_item=0.0,
        )
    )
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    run = tmp_path / "run"
    with pytest.raises(UserError, match=f"training diverged at step [12]: .*{why}"):
        train_blue(Dataset.load(demo_dataset), emb, run, cfg, progress=False)
    assert not (run / "adapter").exists()
    kept = [run / "best_adapter", *(run / "checkpoints").glob("checkpoint-*")]
    for folder in kept:  # whatever was saved before the divergence is finite
        check_adapter(folder)
