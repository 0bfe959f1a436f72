"""Fine-tune the retrieval embedder on the training users' (history text -> next item) pairs.

The loop is sentence-transformers' MultipleNegativesRankingLoss (via
``methods.blue.embedder_ft.finetune_embedder``), one epoch at a time so that each epoch is a
checkpoint: a killed run resumes from its last finished epoch. After each epoch the
validation split's history texts are ranked against the catalogue (never test) and the best
epoch, the untouched base model (epoch 0) included, becomes ``RUN/embedder``.

Only training examples make pairs: their history is everything before the target and the
target is a training interaction, so no validation or test item reaches the embedder.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.console import Console

from profilerec.atomic import atomic_folder, write_text_atomic
from profilerec.data.dataset import Dataset
from profilerec.embed.st import SentenceTransformerEmbedder
from profilerec.errors import UserError
from profilerec.evaluate.methods import history_for_embedding
from profilerec.methods.blue.embedder_ft import finetune_embedder
from profilerec.methods.embedder.config import EmbedderTuneConfig
from profilerec.progress import progress_bar
from profilerec.retrieval.metrics import NDCG
from profilerec.retrieval.scoring import rank_by_embeddings

PROGRESS_FILE = "progress.json"
SUMMARY_FILE = "training.json"
MODEL_DIR = "embedder"
_MARKER = "modules.json"  # every saved SentenceTransformer folder has one


def training_pairs(ds: Dataset, item_text_budget: int) -> tuple[list[str], list[str]]:
    """(history text, target item text) for every training example, in example order.

    The history text is ``evaluate``'s ``history_text`` rendering, so the tuned model is
    trained on exactly the input it is later evaluated on."""
    train = ds.split("train").sort("example_id")
    if train.height == 0:
        raise UserError("the dataset has no training examples to tune the embedder on")
    texts = ds.item_texts(item_text_budget)
    index = ds.item_index
    return history_for_embedding(ds, train), [texts[index[i]] for i in train["item_id"]]


def _valid_examples(ds: Dataset, n: int, seed: int) -> pl.DataFrame:
    valid = ds.split("valid").sort("example_id")
    if valid.height == 0:
        raise UserError("the dataset has no validation examples to choose the epoch on")
    if n and n < valid.height:
        valid = valid.sample(n, seed=seed).sort("example_id")
    return valid


def validation_ndcg(
    embedder: SentenceTransformerEmbedder,
    ds: Dataset,
    examples: pl.DataFrame,
    item_texts: list[str],
) -> float:
    """Mean NDCG@10 of history-text retrieval on ``examples`` (seen items masked)."""
    items = embedder.embed(item_texts)
    users = embedder.embed(history_for_embedding(ds, examples))
    index = ds.item_index
    targets = [index[i] for i in examples["item_id"]]
    res = rank_by_embeddings(users, items, targets, ds.seen_before(examples), k=10)
    return float(NDCG(10).per_user(res.target_ranks).mean())


def _load_progress(run: Path, cfg: EmbedderTuneConfig) -> list[dict[str, Any]]:
    path = run / PROGRESS_FILE
    if not path.is_file():
        if run.is_dir() and any(run.iterdir()):
            raise UserError(
                f"{run} is a non-empty folder that is not an embedder run (no {PROGRESS_FILE}); "
                "choose another --out or delete it"
            )
        return []
    saved = json.loads(path.read_text())
    settings = {k: v for k, v in asdict(cfg).items() if k not in ("epochs", "threads")}
    old = {k: v for k, v in saved["config"].items() if k not in ("epochs", "threads")}
    if old != settings:
        changed = sorted(k for k in settings if settings[k] != old.get(k))
        raise UserError(
            f"{run} holds a run with other settings ({', '.join(changed)}); "
            "choose another --out to start a new one"
        )
    return list(saved["epochs"])


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2))


def _save(model: Any, target: Path) -> None:
    with atomic_folder(target, _MARKER, "sentence-transformers model") as tmp:
        model.save(str(tmp))


def tune_embedder(
    ds: Dataset, out_dir: str | Path, cfg: EmbedderTuneConfig, *, progress: bool = True
) -> dict[str, Any]:
    """Fine-tune, validate each epoch, keep the best; returns the run summary."""
    import torch

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run = Path(out_dir)
    records = _load_progress(run, cfg)
    anchors, positives = training_pairs(ds, cfg.item_text_budget)
    valid = _valid_examples(ds, cfg.valid_examples, cfg.seed)
    item_texts = ds.item_texts(cfg.item_text_budget)
    base_spec = cfg.base_model
    console = Console(stderr=True, quiet=not progress)
    run.mkdir(parents=True, exist_ok=True)
    start = len(records)
    source = str(run / "checkpoints" / f"epoch-{start - 1}") if start > 1 else base_spec
    embedder = SentenceTransformerEmbedder(source)
    eval_cap = int(embedder.model.max_seq_length)
    if start == 0:  # epoch 0: the base model, the bar every epoch must clear
        t0 = time.perf_counter()
        records.append(
            {
                "epoch": 0,
                "loss": None,
                "valid_ndcg@10": validation_ndcg(embedder, ds, valid, item_texts),
                "seconds": time.perf_counter() - t0,
            }
        )
        _write_json(run / PROGRESS_FILE, {"config": asdict(cfg), "epochs": records})
        console.print(f"epoch 0 (base): validation NDCG@10 {records[0]['valid_ndcg@10']:.4f}")
    # optimiser steps per epoch (finetune_embedder skips a last batch of one pair)
    per_epoch = sum(len(anchors) - s >= 2 for s in range(0, len(anchors), cfg.batch_size))
    for epoch in range(max(start, 1), cfg.epochs + 1):
        t0 = time.perf_counter()
        embedder.model.max_seq_length = cfg.max_seq_length
        # a rich bar on a terminal; in a log, a line every few seconds (batches, rate, ETA)
        with progress_bar(f"epoch {epoch}/{cfg.epochs}", per_epoch, enabled=progress) as bar:
            # A fresh AdamW per epoch: the same update whether or not the run was resumed.
            loss = finetune_embedder(
                embedder,
                anchors,
                positives,
                epochs=1,
                batch_size=cfg.batch_size,
                lr=cfg.learning_rate,
                seed=cfg.seed + epoch,
                on_batch=bar.advance,
            )
        embedder.model.max_seq_length = eval_cap  # saved with the evaluation-time cap
        train_s = time.perf_counter() - t0
        _save(embedder.model, run / "checkpoints" / f"epoch-{epoch}")
        score = validation_ndcg(embedder, ds, valid, item_texts)
        records.append(
            {
                "epoch": epoch,
                "loss": loss,
                "valid_ndcg@10": score,
                "seconds": time.perf_counter() - t0,
                "train_seconds": train_s,
            }
        )
        _write_json(run / PROGRESS_FILE, {"config": asdict(cfg), "epochs": records})
        console.print(
            f"epoch {epoch}: MNRL loss {loss:.4f}, validation NDCG@10 {score:.4f} "
            f"({train_s:.0f} s training)"
        )
    best = max(records, key=lambda r: (r["valid_ndcg@10"], -r["epoch"]))
    chosen = (
        SentenceTransformerEmbedder(base_spec)
        if best["epoch"] == 0
        else SentenceTransformerEmbedder(str(run / "checkpoints" / f"epoch-{best['epoch']}"))
    )
    _save(chosen.model, run / MODEL_DIR)
    summary = {
        "config": asdict(cfg),
        "n_pairs": len(anchors),
        "n_valid_examples": valid.height,
        "epochs": records,
        "best_epoch": best["epoch"],
        "best_valid_ndcg@10": best["valid_ndcg@10"],
        "embedder": str(run / MODEL_DIR),
        "seconds": float(np.sum([r["seconds"] for r in records])),
    }
    _write_json(run / SUMMARY_FILE, summary)
    return summary
