"""BLUE training: no evaluation target in training rows; a 2-step GRPO run saves a reloadable adapter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from _blue_defaults import old_blue
from profilerec.configs import read_yaml_options
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.llm.prompts import load_template
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.blue.data import build_rows, select_train_examples


def test_no_training_row_carries_a_validation_or_test_target(demo_dataset: Path) -> None:
    ds = Dataset.load(demo_dataset)
    train = select_train_examples(ds, 0, one_per_user=False, seed=0)
    assert set(train["split"]) == {"train"}
    texts = ds.item_texts(100)
    rows = build_rows(ds, train, load_template("profile"), n_positives=3, item_texts=texts)
    held_out = {
        (u, ds.item_index[i])
        for u, i in ds.examples.filter(pl.col("split") != "train")
        .select("user_id", "item_id")
        .iter_rows()
    }
    trainable = {
        (u, ds.item_index[i])
        for u, i in ds.train_interactions().select("user_id", "item_id").iter_rows()
    }
    users = dict(zip(train["example_id"], train["user_id"], strict=True))
    multi = 0
    for row in rows:
        user = users[row["example_id"]]
        for p in row["positives"]:
            assert (user, p) not in held_out
            assert (user, p) in trainable
        multi += len(row["positives"]) > 1
    assert multi > 100  # the multi-positive path was exercised


def test_history_positives_are_the_past_only(demo_dataset: Path) -> None:
    """``positives_from="history"``: every positive and every excluded item is strictly
    before the example's target; neither the target nor any later item is among them."""
    ds = Dataset.load(demo_dataset)
    train = select_train_examples(ds, 0, one_per_user=False, seed=0)
    texts = ds.item_texts(100)
    rows = build_rows(
        ds,
        train,
        load_template("profile"),
        n_positives=3,
        item_texts=texts,
        positives_from="history",
    )
    inter = ds.interactions.select("user_id", "item_id", "timestamp")
    index = ds.item_index
    checked = 0
    for row, ex in zip(rows, train.iter_rows(named=True), strict=True):
        later = inter.filter(
            (pl.col("user_id") == ex["user_id"]) & (pl.col("timestamp") >= ex["timestamp"])
        )
        future = {index[i] for i in later["item_id"]} - {index[i] for i in ex["history"]}
        past = [index[i] for i in ex["history"]]
        assert row["positives"] == past[-3:] and row["history_idx"] == past[:-3]
        assert not future & (set(row["positives"]) | set(row["history_idx"]))
        checked += 1
    assert checked > 1000
    no_past = train.head(3).with_columns(history=pl.lit([], dtype=train.schema["history"]))
    kept = build_rows(
        ds,
        no_past,
        load_template("profile"),
        n_positives=3,
        item_texts=texts,
        positives_from="history",
    )
    assert kept == []  # no history: left out, never scored on the target
    with pytest.raises(UserError, match="embedding reward only"):
        BlueConfig(reward="rlpf", positives_from="history")
    with pytest.raises(UserError, match="positives_from"):
        BlueConfig(positives_from="future")


def test_older_positives_are_the_history_the_prompt_does_not_show(demo_dataset: Path) -> None:
    """``positives_from="older"``: the positives are the history items just before the shown
    window, the shown ones are excluded from the ranking, nothing at or after the target is
    used, and examples whose whole history is shown are left out."""
    from profilerec.profile.prompts import HistoryFormat

    ds = Dataset.load(demo_dataset)
    train = select_train_examples(ds, 0, one_per_user=False, seed=0)
    shown = 3
    rows = build_rows(
        ds,
        train,
        load_template("profile"),
        n_positives=2,
        item_texts=ds.item_texts(100),
        history=HistoryFormat(max_items=shown),
        positives_from="older",
    )
    by_id = {r["example_id"]: r for r in rows}
    index = ds.item_index
    kept = 0
    for ex in train.iter_rows(named=True):
        past = [index[i] for i in ex["history"]]
        row = by_id.get(ex["example_id"])
        if len(past) <= shown:
            assert row is None
            continue
        kept += 1
        assert row is not None and row["prompt"][-1]["content"]
        assert row["positives"] == past[:-shown][-2:]
        assert set(past[-shown:]) <= set(row["history_idx"])
        assert sorted(row["positives"] + row["history_idx"]) == sorted(past)
    assert kept > 500
    assert BlueConfig(positives_from="older", weight_next_item=0.0).future_items() == 0
    with pytest.raises(UserError, match="positives_from: older"):
        BlueConfig(reward="judge", positives_from="older")


def test_config_from_yaml_rejects_unknown_keys(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("blue:\n  max_steps: 3\n  n_negatives: 16\n")
    cfg = BlueConfig.from_yaml(good, reward="rlpf")
    assert (cfg.max_steps, cfg.n_negatives, cfg.reward) == (3, 16, "rlpf")
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_stepz: 3\n")
    with pytest.raises(UserError, match="unknown option"):
        BlueConfig.from_yaml(bad)
    with pytest.raises(UserError, match="unknown reward"):
        BlueConfig(reward="bogus")  # type: ignore[arg-type]


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_documented_example_configs_exist() -> None:
    names = {p.name for p in EXAMPLES.glob("blue*.yaml")}
    assert {"blue.yaml", "blue_paper.yaml"} <= names  # the recommended recipe and the paper's


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("blue*.yaml")), ids=lambda p: p.name)
def test_example_configs_load(path: Path) -> None:
    cfg = BlueConfig.from_yaml(path)
    assert cfg.max_steps > 0
    written = read_yaml_options(path, "blue").get("positives_from", "auto")
    if written in ("history", "older"):  # the baselines need the next item, and say how
        with pytest.raises(UserError, match="positives_from=next"):
            BlueConfig.from_yaml(path, reward="rlpf")
    else:  # auto (or next): the baselines score the next item
        assert BlueConfig.from_yaml(path, reward="rlpf").positives_from == "next"


@pytest.mark.parametrize("reward", ["blue"])
def test_two_step_grpo_saves_and_reloads_adapter_and_resumes(
    reward: str, demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    from profilerec.embed import load_embedder
    from profilerec.llm.hf import TransformersGenerator
    from profilerec.methods.blue.trainer import train_blue
    from profilerec.profile.runs import adapter_dir

    ds = Dataset.load(demo_dataset)
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    cfg = BlueConfig(
        **old_blue(  # the defaults before issue 37 (KL on: "kl" is logged)
            reward=reward,
            model=str(tiny_lm_dir),
            max_steps=2,
            num_generations=2,
            prompts_per_step=1,
            max_completion_length=6,
            train_examples=6,
            eval_examples=4,
            eval_every=2,
            save_every=2,
            learning_rate=5e-2,
            weight_next_item=0.5,
        )
    )
    run = tmp_path / "run"
    summary = train_blue(ds, emb, run, cfg, progress=False)
    assert summary["steps"] == 2
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "rewards/embedding/mean" in r]
    assert [r["step"] for r in steps] == [1, 2]
    assert all(
        "rewards/next_item/mean" in r and "rewards/shaping/mean" in r and "kl" in r for r in steps
    )
    assert [r["step"] for r in log if "valid_ndcg@10" in r] == [0, 2]
    # each validation keeps its profiles, and their ranks give back the logged NDCG@10
    for r in (r for r in log if "valid_ndcg@10" in r):
        seen = pl.read_parquet(run / "validation" / f"step-{r['step']:06d}.parquet")
        assert seen.height == 4 and seen["profile"].dtype == pl.String
        ranks = seen["target_rank"].to_numpy()
        ndcg = np.where(ranks <= 10, 1 / np.log2(ranks + 1), 0.0)
        assert float(ndcg.mean()) == pytest.approx(r["valid_ndcg@10"])

    base = TransformersGenerator(str(tiny_lm_dir))
    # best_adapter is the validation winner: the first step with the highest (NDCG@10, MRR)
    assert adapter_dir(run) == run / "best_adapter"
    # the run records what it saw: no test example of the same users may reach `profile`
    exposure = pl.read_parquet(run / "exposure.parquet")
    assert set(exposure["role"]) == {"train", "selection"}
    valid = [r for r in log if "valid_ndcg@10" in r]
    top = max((r["valid_ndcg@10"], r.get("valid_mrr", 0.0)) for r in valid)
    first = next(r["step"] for r in valid if (r["valid_ndcg@10"], r.get("valid_mrr", 0.0)) == top)
    assert json.loads((run / "best.json").read_text())["step"] == first
    tuned = TransformersGenerator(str(tiny_lm_dir), adapter=run / "adapter")
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        assert not torch.allclose(base.model(ids).logits, tuned.model(ids).logits)

    # resume: the same run folder, more steps, continues from checkpoint-2
    other = BlueConfig(**{**cfg.to_dict(), "learning_rate": 1e-3})
    with pytest.raises(UserError, match="different config"):
        train_blue(ds, emb, run, other, progress=False)
    # a run saved before an option existed (bf16 here) resumes: the missing option is its default
    saved = json.loads((run / "blue_config.json").read_text())
    (run / "blue_config.json").write_text(
        json.dumps({k: v for k, v in saved.items() if k != "bf16"})
    )
    more = BlueConfig(**{**cfg.to_dict(), "max_steps": 3})  # more steps: a legitimate resume
    resumed = train_blue(ds, emb, run, more, progress=False)
    assert resumed["steps"] == 3 and str(resumed["resumed_from"]).endswith("checkpoint-2")


def test_finetune_embedder_lowers_mnrl_loss(tiny_st_dir: Path) -> None:
    from profilerec.embed.st import SentenceTransformerEmbedder
    from profilerec.methods.blue.embedder_ft import finetune_embedder

    emb = SentenceTransformerEmbedder(str(tiny_st_dir))
    anchors = [
        f"user likes {w}" for w in ("lipstick", "shampoo", "coffee", "socks", "tent", "guitar")
    ]
    positives = [f"{w} item" for w in ("lipstick", "shampoo", "coffee", "socks", "tent", "guitar")]
    first = finetune_embedder(emb, anchors, positives, batch_size=6, lr=1e-3)
    for _ in range(8):
        last = finetune_embedder(emb, anchors, positives, batch_size=6, lr=1e-3)
    assert last < first


def test_trainable_embedder_rounds_refresh_item_vectors(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    from profilerec.embed import load_embedder
    from profilerec.methods.blue.trainer import train_blue

    ds = Dataset.load(demo_dataset)
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}", cache_dir=tmp_path / "cache")
    cfg = BlueConfig(
        **old_blue(  # the defaults before issue 37
            model=str(tiny_lm_dir),
            max_steps=2,
            num_generations=2,
            prompts_per_step=1,
            max_completion_length=6,
            train_examples=6,
            eval_examples=4,
            eval_every=0,
            save_every=2,
            weight_next_item=0.0,
            trainable_embedder=True,
            embedder_every=1,
            embedder_examples=4,
        )
    )
    run = tmp_path / "run"
    train_blue(ds, emb, run, cfg, progress=False)
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    rounds = [r for r in log if "embedder_round" in r]
    assert [r["step"] for r in rounds] == [1]
    assert (run / "embedder" / "modules.json").is_file()
    tuned = load_embedder(f"sentence-transformers:{run / 'embedder'}")
    base = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    texts = ds.item_texts(100)[:5]
    assert not np.allclose(tuned.embed(texts), base.embed(texts))


def test_set_overrides_parse_yaml_values_and_reject_mistakes() -> None:
    from profilerec.configs import parse_sets as _parse_sets

    parsed = _parse_sets(["trainable_embedder=true", "learning_rate=1e-4", "lora_targets=[q_proj]"])
    assert parsed["trainable_embedder"] is True and parsed["lora_targets"] == ["q_proj"]
    cfg = BlueConfig.from_mapping({}, "--set", **parsed)
    assert cfg.trainable_embedder and cfg.lora_targets == ("q_proj",) and cfg.learning_rate == 1e-4
    with pytest.raises(UserError, match="expected KEY=VALUE"):
        _parse_sets(["max_steps"])
    with pytest.raises(UserError, match="--set: unknown option"):
        BlueConfig.from_mapping({"max_stepz": 3}, "--set")


def test_numbers_written_as_yaml_strings_are_numbers(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("learning_rate: 1e-4\nmax_steps: '7'\n")  # YAML 1.1 reads 1e-4 as a string
    loaded = BlueConfig.from_yaml(cfg)
    assert loaded.learning_rate == 1e-4 and loaded.max_steps == 7
    cfg.write_text("learning_rate: fast\n")
    with pytest.raises(UserError, match="learning_rate must be a number, got 'fast'"):
        BlueConfig.from_yaml(cfg)
