"""quickstart end to end on tiny models: every stage's files, and the BLUE branch."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from profilerec.embed import load_embedder
from profilerec.evaluate.stage import ID_METHODS
from profilerec.llm.hf import TransformersGenerator
from profilerec.methods.blue.config import BlueConfig
from profilerec.quickstart import QuickstartConfig, run_quickstart


def test_quickstart_with_training_writes_every_output(
    tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    config = QuickstartConfig(
        limit=6,
        train=True,
        blue=BlueConfig(
            model=str(tiny_lm_dir),
            max_steps=1,
            num_generations=2,
            prompts_per_step=1,
            max_completion_length=6,
            train_examples=4,
            eval_examples=4,
            eval_every=0,
        ),
    )
    config.profile.generation = type(config.profile.generation)(max_new_tokens=6)
    config.evaluate.baseline_params = {"sasrec": {"epochs": 2}}  # the real fit is benchmarked

    def generator(adapter: Path | None) -> TransformersGenerator:
        return TransformersGenerator(str(tiny_lm_dir), adapter=adapter)

    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    out = tmp_path / "qs"
    done = run_quickstart(out, config, generator, emb)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["metrics"]) == {
        *ID_METHODS,
        "history_text",
        "mean_history",
        "hybrid",  # no hybrid+zero_shot: quickstart profiles the test split only
        "zero_shot",
        "history+zero_shot",
        "blue",
        "history+blue",
    }
    assert metrics["n_examples"] == 6
    ranks = pl.read_parquet(out / "ranks.parquet")
    assert ranks.height == len(metrics["metrics"]) * 6 and ranks["target_rank"].min() >= 1
    assert pl.read_parquet(out / "profiles" / "blue" / "profiles.parquet").height == 6
    html = done["report"].read_text()
    assert "blue" in html and "zero_shot" in html
    assert (out / "train" / "blue" / "adapter" / "adapter_config.json").is_file()
    assert metrics["tuning"]["sasrec"]["grid"] == {}  # fitted at its defaults, for time
    assert metrics["tuning"]["sasrec"]["chosen"]["epochs"] == 2  # baseline_params reach the fit
    assert metrics["tuning"]["itemknn"]["grid"] and metrics["best_id_baseline"] in ID_METHODS
    assert set(metrics["slices"]) >= {"cold_items", "short_history", "tail_items", "rest"}
    assert json.loads((out / "config.json").read_text())["train"] is True
