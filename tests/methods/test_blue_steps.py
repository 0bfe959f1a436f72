"""GRPO steps on a tiny model: several users per step, and a zero-variance group teaches nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from safetensors.numpy import load_file

from _blue_defaults import old_blue
from profilerec.data.dataset import Dataset
from profilerec.llm.prompts import load_template
from profilerec.methods.blue import trainer as blue_trainer
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.blue.data import build_rows, select_train_examples
from profilerec.methods.blue.validation import sameness
from profilerec.rewards import EmbeddingReward


def _config(tiny_lm_dir: Path, **kw: Any) -> BlueConfig:
    base: dict[str, Any] = dict(
        model=str(tiny_lm_dir),
        max_steps=1,
        num_generations=2,
        prompts_per_step=2,
        micro_batch_size=4,
        max_completion_length=6,
        train_examples=8,
        one_per_user=False,
        n_positives=3,
        reward_variant="ndcg",
        eval_examples=4,
        eval_every=0,
        save_every=1,
        learning_rate=5e-2,
        beta=0.0,
        weight_next_item=0.0,
    )
    return BlueConfig(**old_blue(**{**base, **kw}))  # the defaults before issue 37


def _lora_b(run: Path) -> list[np.ndarray]:
    weights = load_file(str(run / "adapter" / "adapter_model.safetensors"))
    found = [v for k, v in weights.items() if "lora_B" in k]
    assert found
    return found


def test_a_step_scores_several_users_each_with_its_own_group(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    from profilerec.embed import load_embedder

    calls: list[list[int]] = []

    class Recording(EmbeddingReward):
        def __call__(self, prompts: list[Any], completions: list[Any], **kw: Any) -> list[float]:
            calls.append(list(kw["example_id"]))
            return super().__call__(prompts, completions, **kw)

    monkeypatch.setattr(blue_trainer, "EmbeddingReward", Recording)
    ds = Dataset.load(demo_dataset)
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    blue_trainer.train_blue(ds, emb, tmp_path / "run", _config(tiny_lm_dir), progress=False)
    assert len(calls) == 1  # one generation batch for the step
    ids = calls[0]
    assert len(ids) == 4 and len(set(ids)) == 2  # 2 users x 2 rollouts, grouped
    assert ids[0] == ids[1] and ids[2] == ids[3]


@pytest.mark.parametrize("constant", [True, False])
def test_zero_variance_groups_leave_the_adapter_untouched(
    constant: bool,
    demo_dataset: Path,
    tiny_lm_dir: Path,
    tiny_st_dir: Path,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    """TRL's group-normalised advantage of an all-equal group is 0, so (with beta 0) it adds no
    gradient: LoRA's B matrices, initialised to zero, stay zero. The control (the real reward,
    which varies) moves them, so the test can fail."""
    from profilerec.embed import load_embedder

    if constant:

        class Constant(EmbeddingReward):
            def __call__(
                self, prompts: list[Any], completions: list[Any], **kw: Any
            ) -> list[float]:
                return [0.5] * len(completions)

        monkeypatch.setattr(blue_trainer, "EmbeddingReward", Constant)
    ds = Dataset.load(demo_dataset)
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    run = tmp_path / "run"
    cfg = _config(tiny_lm_dir, weight_shaping=0.0, lora_dropout=0.0)
    blue_trainer.train_blue(ds, emb, run, cfg, progress=False)
    moved = max(float(np.abs(b).max()) for b in _lora_b(run))
    assert (moved == 0.0) if constant else (moved > 0.0)


def test_no_reward_column_holds_a_held_out_item_or_a_later_history(demo_dataset: Path) -> None:
    """Everything a reward reads (positives, history, target text): training items only, and the
    history strictly before the target."""
    ds = Dataset.load(demo_dataset)
    train = select_train_examples(ds, 0, one_per_user=False, seed=0)
    texts = ds.item_texts(100)
    rows = build_rows(ds, train, load_template("profile"), n_positives=3, item_texts=texts)
    ts = {
        (u, ds.item_index[i]): t
        for u, i, t in ds.interactions.select("user_id", "item_id", "timestamp").iter_rows()
    }
    held_out = {
        (u, ds.item_index[i])
        for u, i in ds.examples.filter(pl.col("split") != "train")
        .select("user_id", "item_id")
        .iter_rows()
    }
    by_id = {r["example_id"]: r for r in train.iter_rows(named=True)}
    for row in rows:
        ex = by_id[row["example_id"]]
        user, target_ts = ex["user_id"], ex["timestamp"]
        assert all(ts[(user, h)] < target_ts for h in row["history_idx"])
        assert all((user, p) not in held_out for p in row["positives"])
        assert row["target_text"] == texts[ds.item_index[ex["item_id"]]]


def test_sameness_is_mean_cosine_between_different_profiles() -> None:
    vecs = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], dtype=np.float32)
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    pairs = [float(unit[i] @ unit[j]) for i in range(3) for j in range(3) if i != j]
    assert sameness(vecs) == pytest.approx(np.mean(pairs), rel=1e-6)
    assert sameness(np.ones((4, 3), dtype=np.float32)) == pytest.approx(1.0)
