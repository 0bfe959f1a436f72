"""Rejection-sampling fine-tuning: winner selection, a tiny two-round run, resume, leakage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from _blue_defaults import RFT_BEFORE_37
from profilerec.cli.profile import _history_format
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.methods.rft import RFTConfig, train_rft
from profilerec.methods.rft.sample import GREEDY, select_winners
from profilerec.profile.runs import ProfilerRun, adapter_dir, base_model_of, history_format_of


def _cands(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "example_id": [r[0] for r in rows],
            "sample": [r[1] for r in rows],
            "profile": [f"p{r[0]}-{r[1]}" for r in rows],
            "reward": [r[2] for r in rows],
        },
        schema_overrides={"sample": pl.Int32},
    )


def test_winner_must_beat_the_greedy_profile() -> None:
    cands = _cands(
        [
            (1, GREEDY, 0.10), (1, 0, 0.30), (1, 1, 0.30), (1, 2, 0.05),  # tie: sample 0
            (2, GREEDY, 0.50), (2, 0, 0.20), (2, 1, 0.50),  # nothing beats greedy
            (3, GREEDY, float("-inf")), (3, 0, float("-inf")), (3, 1, 0.01),  # empty greedy
            (4, GREEDY, 0.10), (4, 0, 0.12),  # beats greedy, but by less than min_gain below
        ]
    )  # fmt: skip
    won = select_winners(cands, 0.0)
    assert won["example_id"].to_list() == [1, 3, 4]
    assert won["profile"].to_list() == ["p1-0", "p3-1", "p4-0"]
    assert won["greedy_reward"][0] == pytest.approx(0.10)
    assert select_winners(cands, 0.05)["example_id"].to_list() == [1, 3]
    # a negative margin keeps every example's best sample, an empty one never
    assert select_winners(cands, -1.0)["example_id"].to_list() == [1, 2, 3, 4]


def test_bad_rft_options_are_user_errors() -> None:
    with pytest.raises(UserError, match="num_samples"):
        RFTConfig(num_samples=0)
    with pytest.raises(UserError, match="reward_variant"):
        RFTConfig(reward_variant="bogus")
    with pytest.raises(UserError, match="top_p"):
        RFTConfig(top_p=0)
    with pytest.raises(UserError, match="train_examples"):
        RFTConfig(train_examples=-1)


def test_two_rounds_train_validate_resume_and_never_see_held_out_items(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    from profilerec.embed import load_embedder
    from profilerec.llm.hf import TransformersGenerator

    ds = Dataset.load(demo_dataset)
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    cfg = RFTConfig(
        **RFT_BEFORE_37,  # bf16 off, as before issue 37 made it auto
        model=str(tiny_lm_dir),
        train_examples=6,
        num_samples=2,
        max_new_tokens=6,
        gen_batch_size=4,
        min_gain=-1.0,  # the tiny random model's rewards are near 0: keep every best sample
        epochs=1,
        batch_size=2,
        learning_rate=5e-2,
        eval_examples=4,
        rounds=1,
    )
    run = tmp_path / "run"
    summary = train_rft(ds, emb, run, cfg, progress=False)
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [r["round"] for r in log] == [0, 1]
    assert log[1]["winners"] == 6 and log[1]["examples"] == 6
    assert summary["best_round"] in (0, 1)
    # each validation keeps its profiles; their ranks give back the logged NDCG@10
    for r in log:
        seen = pl.read_parquet(run / "validation" / f"round-{r['round']:03d}.parquet")
        ranks = seen["target_rank"].to_numpy()
        assert float(np.where(ranks <= 10, 1 / np.log2(ranks + 1), 0).mean()) == pytest.approx(
            r["valid_ndcg@10"]
        )
    # candidates: greedy + 2 samples of each training example, in 2 parts of <= 4 examples
    rnd = run / "rounds" / "round-001"
    assert len(list((rnd / "candidates").glob("part-*.parquet"))) == 2
    cands = pl.read_parquet(rnd / "candidates" / "candidates.parquet")
    assert cands.height == 6 * 3
    assert sorted(set(cands["sample"])) == [GREEDY, 0, 1]
    splits = dict(zip(ds.examples["example_id"], ds.examples["split"], strict=True))
    assert {splits[e] for e in cands["example_id"]} == {"train"}  # no held-out prompt

    # the adapter differs from the base model and reloads for `profile --adapter RUN`
    assert adapter_dir(run) == run / "best_adapter"
    assert (run / "exposure.parquet").is_file()  # what the run saw, for `profile`'s check
    tuned = TransformersGenerator(str(tiny_lm_dir), adapter=rnd / "adapter")
    base = TransformersGenerator(str(tiny_lm_dir))
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        assert not torch.allclose(base.model(ids).logits, tuned.model(ids).logits)
    assert history_format_of(run) == cfg.history_format()
    assert _history_format(ProfilerRun.read(run), None, None, None) == cfg.history_format()
    assert base_model_of(run) == str(tiny_lm_dir)

    # resume: a different recipe is refused; one more round runs only round 2
    with pytest.raises(UserError, match="different config"):
        train_rft(ds, emb, run, RFTConfig(**{**cfg.to_dict(), "learning_rate": 1e-3}))
    more = RFTConfig(**{**cfg.to_dict(), "rounds": 2})
    train_rft(ds, emb, run, more, progress=False)
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [r["round"] for r in log] == [0, 1, 2]
    # a killed round resumes from its candidate parts: a part removed is the only one redone
    (run / "train_log.jsonl").write_text("\n".join(json.dumps(r) for r in log[:2]) + "\n")
    import shutil

    shutil.rmtree(run / "rounds" / "round-002" / "adapter")
    kept = run / "rounds" / "round-002" / "candidates" / "part-000000.parquet"
    before = kept.stat().st_mtime_ns
    (run / "rounds" / "round-002" / "candidates" / "part-000001.parquet").unlink()
    train_rft(ds, emb, run, more, progress=False)
    assert kept.stat().st_mtime_ns == before
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [r["round"] for r in log] == [0, 1, 2]
