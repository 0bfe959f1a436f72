"""The tuned-embedder stage: pairs never hold held-out items, epochs resume, best by validation."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.evaluate.methods import history_for_embedding
from profilerec.methods.embedder import EmbedderTuneConfig, training_pairs, tune_embedder


def test_training_pairs_hold_only_training_targets_and_earlier_history(
    demo_dataset: Path,
) -> None:
    ds = Dataset.load(demo_dataset)
    anchors, positives = training_pairs(ds, 300)
    train = ds.split("train").sort("example_id")
    assert len(anchors) == len(positives) == train.height
    texts, index = ds.item_texts(300), ds.item_index
    later: dict[str, set[str]] = {}
    for u, i in (
        ds.examples.filter(pl.col("split") != "train").select("user_id", "item_id").iter_rows()
    ):
        later.setdefault(u, set()).add(i)
    for row, anchor, positive in zip(train.iter_rows(named=True), anchors, positives, strict=True):
        user, target = row["user_id"], row["item_id"]
        assert target not in later.get(user, set())  # a training interaction, never held out
        assert positive == texts[index[target]]
        # the anchor is rendered from the history alone: no target, no held-out item in it
        assert not ({target} | later.get(user, set())) & set(row["history"])
        one = train.filter(pl.col("example_id") == row["example_id"])
        assert anchor == history_for_embedding(ds, one)[0]


def test_tune_embedder_keeps_best_epoch_and_resumes(
    demo_dataset: Path, tiny_st_dir: Path, tmp_path: Path, one_torch_thread: None
) -> None:
    ds = Dataset.load(demo_dataset)
    cfg = EmbedderTuneConfig(
        embedder=f"sentence-transformers:{tiny_st_dir}",
        epochs=1,
        batch_size=16,
        learning_rate=1e-3,
        max_seq_length=32,
        valid_examples=24,
    )
    run = tmp_path / "emb"
    first = tune_embedder(ds, run, cfg, progress=False)
    assert [r["epoch"] for r in first["epochs"]] == [0, 1]
    assert (run / "embedder" / "modules.json").is_file()
    assert (run / "checkpoints" / "epoch-1" / "modules.json").is_file()
    # the saved model keeps the base model's token cap, not the training cap
    from profilerec.embed.st import SentenceTransformerEmbedder

    base_cap = SentenceTransformerEmbedder(str(tiny_st_dir)).model.max_seq_length
    assert base_cap != 32
    assert SentenceTransformerEmbedder(str(run / "embedder")).model.max_seq_length == base_cap
    best = max(first["epochs"], key=lambda r: r["valid_ndcg@10"])
    assert first["best_epoch"] == best["epoch"]
    # a second call with more epochs resumes: epochs 0 and 1 are not recomputed
    more = tune_embedder(
        ds, run, EmbedderTuneConfig(**{**cfg.__dict__, "epochs": 2}), progress=False
    )
    assert [r["epoch"] for r in more["epochs"]] == [0, 1, 2]
    assert more["epochs"][:2] == first["epochs"]
    with pytest.raises(UserError, match="other settings"):
        tune_embedder(
            ds, run, EmbedderTuneConfig(**{**cfg.__dict__, "learning_rate": 5e-4}), progress=False
        )


def test_tune_embedder_refuses_a_foreign_folder_and_bad_config(
    demo_dataset: Path, tmp_path: Path
) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not an embedder run"):
        tune_embedder(Dataset.load(demo_dataset), foreign, EmbedderTuneConfig(), progress=False)
    with pytest.raises(UserError, match="batch_size"):
        EmbedderTuneConfig(batch_size=1)
