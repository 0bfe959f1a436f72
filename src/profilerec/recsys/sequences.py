"""Item sequences for SASRec, built so that no evaluation target is ever an input.

Everything here speaks catalogue indices (``dataset.item_ids`` order) except
``padded``, which makes the model's input: index 0 is padding, item ``i`` becomes ``i + 1``.
"""

from __future__ import annotations

import polars as pl
import torch

from profilerec.data.dataset import Dataset


def padded(seqs: list[list[int]], width: int | None = None) -> torch.Tensor:
    """``[B, width]`` long tensor of ``index + 1``, right-padded with 0 (width >= 1).

    Right padding means that, under a causal mask, no real position attends to padding.
    """
    width = width or max([1, *map(len, seqs)])
    rows = [[i + 1 for i in s] + [0] * (width - len(s)) for s in seqs]
    return torch.tensor(rows, dtype=torch.long).reshape(len(seqs), width)


def _time_ordered(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Item lists per ``key`` in time order; file order (``_row``) breaks timestamp ties."""
    return frame.sort(key, "timestamp", "_row").group_by(key, maintain_order=True).agg("item_id")


def training_sequences(dataset: Dataset) -> list[list[int]]:
    """Each user's training interactions in time order (catalogue indices), users with 2+
    items only, in ``user_id`` order.

    Starts from ``dataset.train_interactions()``, so no validation or test target (nor
    anything after it) is ever a training input or label.
    """
    keep = dataset.train_interactions().select("user_id", "item_id", "timestamp")
    rows = dataset.interactions.with_row_index("_row").join(
        keep, on=["user_id", "item_id", "timestamp"], how="semi"
    )
    index = dataset.item_index
    lists = _time_ordered(rows, "user_id")["item_id"].to_list()
    seqs = [[index[i] for i in items if i in index] for items in lists]
    return [s for s in seqs if len(s) >= 2]


def sasrec_histories(
    dataset: Dataset, examples: pl.DataFrame, *, max_len: int | None = None
) -> list[list[int]]:
    """Per example, the user's items strictly before its timestamp, oldest first.

    Unlike ``history`` this is not cut at 20 items (only at ``max_len`` when given), so a
    test example sees its whole past, validation target included, never its own target.
    """
    inter = dataset.interactions.select("user_id", "item_id", "timestamp").with_row_index("_row")
    past = (
        examples.select("example_id", "user_id", pl.col("timestamp").alias("_t"))
        .join(inter, on="user_id")
        .filter(pl.col("timestamp") < pl.col("_t"))
    )
    grouped = _time_ordered(past, "example_id")
    by_id = dict(zip(grouped["example_id"].to_list(), grouped["item_id"].to_list(), strict=True))
    index = dataset.item_index
    out = [[index[i] for i in by_id.get(e, []) if i in index] for e in examples["example_id"]]
    return [h[-max_len:] for h in out] if max_len else out


def windows(seq: list[int], max_len: int) -> list[list[int]]:
    """Cut a long sequence from the end into windows of ``max_len`` inputs + 1 label."""
    return [seq[max(0, end - max_len - 1) : end] for end in range(len(seq), 1, -max_len)]
