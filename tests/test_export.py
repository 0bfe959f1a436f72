"""``profilerec export``: a tiny trained adapter, loaded without profilerec, writes what
``profile --adapter RUN`` writes; the model card states base, data, recipe, exposure, figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from _blue_defaults import old_blue
from bad_input._cli import run_cli
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.export import ExportConfig, export_run
from profilerec.llm.base import GenerationConfig
from profilerec.methods.blue.config import BlueConfig

PROMPTS = [
    [{"role": "user", "content": "History: a red lipstick; a rose perfume. Describe this user."}],
    [{"role": "user", "content": "History: a hair dryer. Describe this user."}],
]
GREEDY = GenerationConfig(max_new_tokens=12)


@pytest.fixture(scope="module")
def run(demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path_factory: Any) -> Path:
    """Two GRPO steps on the tiny model: a real adapter whose weights moved."""
    from profilerec.embed import load_embedder
    from profilerec.methods.blue.trainer import train_blue

    cfg = BlueConfig(**old_blue(  # the defaults before issue 37
        model=str(tiny_lm_dir), max_steps=2, num_generations=2, prompts_per_step=1,
        max_completion_length=6, train_examples=6, eval_examples=4, eval_every=2,
        save_every=2, learning_rate=5e-2, weight_next_item=0.0,
    ))  # fmt: skip
    folder = tmp_path_factory.mktemp("export") / "run"
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    train_blue(Dataset.load(demo_dataset), emb, folder, cfg, progress=False)
    return folder


def _profile_adapter_texts(run: Path) -> list[str]:
    """What ``profile --adapter RUN`` generates (the CLI's own generator construction)."""
    from profilerec.cli.loaders import make_generator

    gen = make_generator("transformers", run, batch_size=2, dtype="float32", device="cpu")
    return gen.generate(PROMPTS, GREEDY)


def _wrapped_texts(model: Any, tokenizer: Any) -> list[str]:
    from profilerec.llm.hf import TransformersGenerator

    model.eval()
    return TransformersGenerator.wrap(model, tokenizer, "plain", batch_size=2).generate(
        PROMPTS, GREEDY
    )


def test_unmerged_export_loads_with_plain_transformers_and_peft(
    run: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from profilerec.llm.hf import TransformersGenerator

    out = export_run(run, tmp_path / "adapter_export", ExportConfig())
    assert (out / "adapter_config.json").is_file() and not (out / "config.json").exists()
    expected = _profile_adapter_texts(run)
    tokenizer = AutoTokenizer.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_lm_dir, dtype=torch.float32)
    with_peft = PeftModel.from_pretrained(base, str(out))
    assert _wrapped_texts(with_peft, tokenizer) == expected
    # transformers alone (peft installed) reads the adapter folder and its base
    direct = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    assert _wrapped_texts(direct, tokenizer) == expected
    # and profilerec's --generator transformers:DIR
    gen = TransformersGenerator(str(out), dtype="float32", batch_size=2)
    assert gen.generate(PROMPTS, GREEDY) == expected
    untrained = TransformersGenerator(str(tiny_lm_dir), dtype="float32", batch_size=2)
    assert untrained.generate(PROMPTS, GREEDY) != expected  # the adapter changed something


def test_merged_export_is_a_plain_checkpoint(run: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "merged"
    result = run_cli("export", run, "--out", out, "--merge")  # as a user runs it
    assert result.returncode == 0, result.stderr
    assert "merged checkpoint and model card written" in result.stdout
    assert (out / "config.json").is_file() and not (out / "adapter_config.json").exists()
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    texts = _wrapped_texts(model, AutoTokenizer.from_pretrained(out))
    assert texts == _profile_adapter_texts(run)
    assert "library_name: transformers" in (out / "README.md").read_text()


def _metrics(path: Path) -> Path:
    """An evaluate folder's metrics.json in evaluate's shape (figures copied, not computed)."""
    path.mkdir()
    metrics = {
        "trained": {"ndcg@10": 0.051, "mrr": 0.04},
        "zero_shot": {"ndcg@10": 0.047, "mrr": 0.038},
    }
    ci = {m: {k: [v - 0.01, v + 0.01] for k, v in d.items()} for m, d in metrics.items()}
    comp = {"method": "trained", "reference": "zero_shot", "metric": "ndcg@10",
            "mean_diff": 0.004, "ci": [-0.008, 0.016], "p_value": 0.55, "detectable": 0.02}  # fmt: skip
    (path / "metrics.json").write_text(json.dumps({
        "metrics": metrics, "ci": ci, "reference": "zero_shot", "comparisons": [comp],
        "split": "test", "n_examples": 51, "resampled": "users", "embedder": "minilm",
    }))  # fmt: skip
    return path


def test_model_card_states_base_data_recipe_exposure_and_figures(
    run: Path, demo_dataset: Path, tmp_path: Path
) -> None:
    evaluation = _metrics(tmp_path / "eval")
    config = ExportConfig(eval_dir=evaluation, method="trained", dataset=demo_dataset)
    out = export_run(run, tmp_path / "card", config)
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: peft\n")
    assert "## Training data and split" in card and "leave_last_out" in card
    assert "| reward | blue |" in card and "| max_steps | 2 |" in card
    assert "users reached the run" in card and (out / "exposure.parquet").is_file()
    row = "| ndcg@10 | 0.0510 [0.0410, 0.0610] | 0.0470 [0.0370, 0.0570] | +0.0040 [-0.0080, +0.0160] | 0.550 |"
    assert row in card
    assert "resampling users" in card and "huggingface-cli upload" in card
    with pytest.raises(UserError, match="--method 'nope' is not a method"):
        export_run(run, tmp_path / "bad", ExportConfig(eval_dir=evaluation, method="nope"))
    assert not (tmp_path / "bad").exists()


def test_cli_refuses_a_non_run_and_eval_without_method(run: Path, tmp_path: Path) -> None:
    from bad_input._cli import assert_error

    (tmp_path / "not_a_run").mkdir()
    not_run = run_cli("export", tmp_path / "not_a_run", "--out", tmp_path / "x")
    assert_error(not_run, "not a training run folder")
    no_method = run_cli("export", run, "--out", tmp_path / "y", "--eval", tmp_path / "not_a_run")
    assert_error(no_method, "--eval needs --method")
