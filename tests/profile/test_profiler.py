"""``Profiler``: ``from_run`` writes exactly what ``profile --adapter RUN`` writes (same base
model, adapter, history format and prompts), one history is profiled as its example is,
and the run's exposure record is honoured outside the CLI too."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig
from profilerec.profile.exposure import write_exposure
from profilerec.profile.profiler import Profiler
from profilerec.profile.prompts import HistoryFormat

GEN = GenerationConfig(max_new_tokens=8)
#: The run's compact format: not the default, so a profiler that ignored it would differ.
TRAINED = HistoryFormat(max_items=3, item_chars=20, snippet_chars=0)


@pytest.fixture(scope="module")
def tiny_run(tiny_lm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder as ``train`` leaves it: a LoRA adapter (non-zero, so it changes the
    texts) in ``best_adapter/`` over the tiny LM, and the config naming model and format."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from profilerec.methods.blue.config import BlueConfig

    run = tmp_path_factory.mktemp("run") / "run"
    base = AutoModelForCausalLM.from_pretrained(str(tiny_lm_dir))
    lora = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        get_peft_model(base, lora).save_pretrained(str(run / "best_adapter"))
    cfg = BlueConfig(
        model=str(tiny_lm_dir),
        history_items=TRAINED.max_items,
        history_item_chars=TRAINED.item_chars,
        history_snippet_chars=TRAINED.snippet_chars,
    )
    (run / "blue_config.json").write_text(json.dumps(cfg.to_dict()))
    return run


def test_from_run_writes_the_profiles_of_profile_adapter(
    demo_dataset: Path, tiny_run: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from profilerec.cli import app

    args = ["profile", str(demo_dataset), "--out", str(tmp_path / "cli"), "--adapter"]
    args += [str(tiny_run), "--limit", "6", "--batch-size", "3", "--max-new-tokens", "8"]
    result = CliRunner().invoke(app, [*args, "--dtype", "float32", "--device", "cpu"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    cli = pl.read_parquet(tmp_path / "cli" / "profiles.parquet")

    profiler = Profiler.from_run(
        tiny_run, generation=GEN, batch_size=3, dtype="float32", device="cpu"
    )
    assert profiler.history == TRAINED
    assert "+adapter:" in profiler.model_id and "best_adapter" in profiler.model_id
    ds = Dataset.load(demo_dataset)
    test = ds.split("test").sort("example_id").head(6)
    mine = profiler.profile_many(ds, test, batch_size=3)
    for column in ("example_id", "user_id", "profile", "prompt", "cache_key", "model_id"):
        assert mine[column].to_list() == cli[column].to_list(), column
    assert cli["profile"].n_unique() > 1

    # one history, given as item ids with the dataset and its user, is shown as the stage shows it
    first = test.row(0, named=True)
    prompt = profiler.prompt(first["history"], ds, first["user_id"])
    assert prompt == json.loads(cli["prompt"][0])
    one = profiler.profile(first["history"], ds, first["user_id"])
    assert one == profiler.profile_many(ds, test.head(1))["profile"][0]


def test_profile_many_resumes_in_out_and_refuses_exposed_examples(
    demo_dataset: Path, tiny_run: Path, tmp_path: Path
) -> None:
    ds = Dataset.load(demo_dataset)
    test = ds.split("test").sort("example_id").head(4)
    profiler = Profiler.from_run(tiny_run, generation=GEN, dtype="float32", device="cpu")
    out = tmp_path / "p"
    first = profiler.profile_many(ds, test, out=out, batch_size=2)
    assert (out / "profiles.parquet").is_file() and first.height == 4
    assert profiler.profile_many(ds, test, out=out, batch_size=2).equals(first)  # resumed

    user = test["user_id"][0]  # the run trained on this user's test target
    record = pl.DataFrame({"user_id": [user], "role": ["train"], "seen_until": [2**62]})
    write_exposure(tiny_run, record)
    try:
        with pytest.raises(UserError, match="reached the training of"):
            profiler.profile_many(ds, test)
        with pytest.warns(UserWarning, match="seen in training"):
            profiler.write(
                ds, out, profiler.stage_config(batch_size=2), examples=test, allow_exposed=True
            )
    finally:
        (tiny_run / "exposure.parquet").unlink()


def test_from_spec_profiles_free_text_histories(tiny_lm_dir: Path) -> None:
    profiler = Profiler.from_spec(
        f"transformers:{tiny_lm_dir}", history=HistoryFormat(max_items=2), generation=GEN
    )
    prompt = profiler.prompt(["Matte red lipstick", "Argan oil shampoo", "Camping tent"])
    user = next(m["content"] for m in prompt if m["role"] == "user")
    assert "1. Argan oil shampoo" in user and "2. Camping tent" in user
    assert "lipstick" not in user  # only the 2 most recent items are shown
    text = profiler.profile(["Matte red lipstick", "Argan oil shampoo"])
    assert isinstance(text, str) and text == text.strip()
    with pytest.raises(UserError, match="no \\{history\\} placeholder"):
        Profiler(profiler.generator, template=_template_without_history(tiny_lm_dir.parent))


def _template_without_history(folder: Path) -> Path:
    path = folder / "bad_template.txt"
    path.write_text("### system\nWrite a profile.\n### user\nNo history here.\n")
    return path


def test_server_profiler_asks_a_trained_run_in_its_format(
    tiny_run: Path, tiny_lm_dir: Path
) -> None:
    """serve --adapter RUN: ad-hoc profiles go through Profiler.from_run (the run's history
    format), not the default format the server used before."""
    pytest.importorskip("fastapi")
    from profilerec.cli.serve import _profiler

    served = _profiler(f"transformers:{tiny_lm_dir}", tiny_run)
    assert served.history == TRAINED  # type: ignore[attr-defined]
    assert "+adapter:" in served.model_id  # type: ignore[attr-defined]
    untrained = _profiler(f"transformers:{tiny_lm_dir}", None)
    assert untrained.history == HistoryFormat()  # type: ignore[attr-defined]
