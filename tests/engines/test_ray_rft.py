"""RFT's candidates with ``engine: ray`` on a local Ray: the local engine's candidates, and a
killed round resumes with nothing lost or duplicated."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import torch

from _rft import candidate_setup
from profilerec.data.dataset import Dataset
from profilerec.methods.rft import RFTConfig, train_rft
from profilerec.methods.rft.engine import POLICY_DIR, ray_runner
from profilerec.methods.rft.sample import CANDIDATES_FILE, GREEDY, sample_round

pytestmark = [pytest.mark.slow, pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


def test_ray_rounds_write_the_local_candidates(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    """Two rounds each way: round 2 samples a policy SFT changed, so the actors' merged
    adapter must write what the unmerged policy in the driver writes."""
    from safetensors.torch import load_file

    from profilerec.embed import load_embedder

    ds = Dataset.load(demo_dataset)
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    cfg = RFTConfig(
        bf16=False,
        model=str(tiny_lm_dir),
        train_examples=6,
        num_samples=2,
        max_new_tokens=6,
        gen_batch_size=4,
        min_gain=-1.0,  # keep every best sample: the tiny model's rewards are near 0
        epochs=1,
        batch_size=2,
        learning_rate=5e-2,
        eval_examples=4,
        rounds=2,
    )
    runs = {}
    for engine in ("local", "ray"):
        torch.manual_seed(0)  # the same LoRA start, so both runs train the same policy
        runs[engine] = tmp_path / engine
        train_rft(ds, emb, runs[engine], replace(cfg, engine=engine, workers=1), progress=False)
    for r in (1, 2):
        rnd = {e: run / "rounds" / f"round-{r:03d}" for e, run in runs.items()}
        local = pl.read_parquet(rnd["local"] / "candidates" / CANDIDATES_FILE)
        on_ray = pl.read_parquet(rnd["ray"] / "candidates" / CANDIDATES_FILE)
        greedy = local.filter(pl.col("sample") == GREEDY)["profile"].to_list()
        assert on_ray.filter(pl.col("sample") == GREEDY)["profile"].to_list() == greedy
        assert on_ray.equals(local)
        assert sorted(p.name for p in (rnd["ray"] / "candidates").iterdir()) == sorted(
            p.name for p in (rnd["local"] / "candidates").iterdir()
        )
        assert (rnd["ray"] / POLICY_DIR / "adapter_config.json").is_file()
        assert not (rnd["local"] / POLICY_DIR).exists()  # the local engine saves nothing new
    # round 2 sampled round 1's result
    policy = load_file(
        str(runs["ray"] / "rounds/round-002" / POLICY_DIR / "adapter_model.safetensors")
    )
    trained = load_file(str(runs["ray"] / "rounds/round-001/adapter/adapter_model.safetensors"))
    assert policy.keys() == trained.keys()
    assert all(torch.equal(policy[k], trained[k]) for k in policy)
    assert any(v.abs().sum() > 0 for k, v in trained.items() if "lora_B" in k)  # SFT moved it


def test_a_killed_ray_round_resumes_with_nothing_lost_or_duplicated(
    tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    from peft import LoraConfig, get_peft_model

    from profilerec.methods.blue.trainer import load_policy

    base, tokenizer, source = load_policy(str(tiny_lm_dir))
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj"]))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5, generator=torch.Generator().manual_seed(1))
    reward, rows = candidate_setup(tiny_st_dir)
    local_cfg = RFTConfig(num_samples=2, max_new_tokens=4, gen_batch_size=2, bf16=False)
    cfg = replace(local_cfg, engine="ray", workers=1)
    whole = sample_round(
        model, tokenizer, rows, reward, local_cfg, tmp_path / "local", 1, progress=False
    )

    round_folder = tmp_path / "round-001"
    out = round_folder / "candidates"

    def sample(**kw: Any) -> pl.DataFrame:
        runner = ray_runner(model, cfg, source, round_folder)
        return sample_round(
            model, tokenizer, rows, reward, cfg, out, 1, progress=False, runner=runner, **kw
        )

    with pytest.raises(KeyboardInterrupt):
        sample(stop_after_batches=1)
    first = list(out.glob("part-*.parquet"))
    assert len(first) == 1 and not (out / CANDIDATES_FILE).exists()
    before = first[0].stat().st_mtime_ns
    resumed = sample()
    assert first[0].stat().st_mtime_ns == before  # the finished batch is not redone
    assert resumed.equals(whole)
    parts = pl.concat(pl.read_parquet(p) for p in out.glob("part-*.parquet"))
    assert parts.height == 5 and parts["cache_key"].is_unique().all()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in (tmp_path / "local").iterdir()
    )
