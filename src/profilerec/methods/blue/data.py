"""GRPO training rows from the train split: a prompt plus what the rewards need.

Only ``split == "train"`` examples are used, and extra positives come from
``Dataset.train_interactions()``, so no validation or test target reaches training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.llm.prompts import PromptTemplate
from profilerec.profile.prompts import HistoryFormat, build_prompts, history_texts


def select_train_examples(ds: Dataset, n: int, *, one_per_user: bool, seed: int) -> pl.DataFrame:
    train = ds.split("train")
    if train.is_empty():
        raise UserError(
            "the dataset has no training examples; prepare it with a split that has some"
        )
    if one_per_user:  # the latest training example of each user: the richest history
        train = train.sort("position").group_by("user_id", maintain_order=True).last()
    train = train.sort("example_id")
    if n and train.height > n:
        idx = np.sort(np.random.default_rng(seed).choice(train.height, size=n, replace=False))
        train = train[idx.tolist()]
    return train


def next_train_items(ds: Dataset, examples: pl.DataFrame, n_positives: int) -> list[list[int]]:
    """The target, then up to ``n_positives - 1`` of the user's later *training* items."""
    index = ds.item_index
    seqs = (
        ds.train_interactions()
        .sort("user_id", "timestamp")
        .group_by("user_id", maintain_order=True)
        .agg("item_id", "timestamp")
    )
    by_user = {r["user_id"]: r for r in seqs.iter_rows(named=True)}
    out = []
    for user, target, ts in examples.select("user_id", "item_id", "timestamp").iter_rows():
        later = []
        row = by_user.get(user)
        if row is not None:
            later = [
                i
                for i, t in zip(row["item_id"], row["timestamp"], strict=True)
                if t > ts and i != target
            ]
        out.append([index[target]] + [index[i] for i in later[: max(n_positives - 1, 0)]])
    return out


def build_rows(
    ds: Dataset,
    examples: pl.DataFrame,
    template: PromptTemplate,
    *,
    n_positives: int,
    item_texts: list[str],
    history: HistoryFormat | None = None,
    positives_from: str = "next",
) -> list[dict[str, Any]]:
    """One row per example. ``positives_from="history"`` makes the reward's positives the
    last ``n_positives`` history items (the rest of the history excluded from the ranking):
    how well a profile covers what the user had, with nothing after the target involved;
    examples without history are then left out. ``positives_from="older"`` takes the
    ``n_positives`` history items just before the ``history.max_items`` the prompt shows, so
    copying the prompt's titles earns nothing by itself; examples whose whole history is
    shown are left out."""
    history = history or HistoryFormat()
    prompts = build_prompts(ds, examples, template, history)
    texts = history_texts(ds, examples, history)
    nexts = next_train_items(ds, examples, n_positives)
    index = ds.item_index
    rows = []
    for prompt, eid, nxt, hist, text in zip(
        prompts, examples["example_id"], nexts, examples["history"], texts, strict=True
    ):
        past = [index[i] for i in hist if i in index]
        pos, excluded = nxt, past
        if positives_from == "history":
            if not past:  # nothing to cover; never fall back to the target
                continue
            pos, excluded = past[-n_positives:], past[:-n_positives]
        elif positives_from == "older":
            shown = len(past[-history.max_items :])
            older = past[:-shown]
            if not older:  # nothing beyond the prompt; never fall back to the target
                continue
            pos = older[-n_positives:]
            excluded = past[-shown:] + older[: len(older) - len(pos)]
        rows.append(
            {
                "prompt": prompt,
                "example_id": int(eid),
                "positives": pos,
                "history_idx": excluded,
                "history_text": text,
                "target_text": item_texts[nxt[0]],
            }
        )
    return rows
