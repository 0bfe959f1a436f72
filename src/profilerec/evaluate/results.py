"""Writing a recommender experiment's results in the evaluate stage's file formats.

ProEx and PtE train several models per backbone and compare each with its own ID-only
reference; these helpers give them the same ``metrics.json`` / ``ranks.parquet`` that
``evaluate`` writes, so ``profilerec report`` and ``profilerec compare`` read them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.evaluate.protocol import EvaluateConfig, summarise
from profilerec.evaluate.slices import sliced_summary
from profilerec.evaluate.stage import METRICS_FILE, RANKS_FILE
from profilerec.retrieval.scoring import RankResult

#: Per-slice results of a ProEx or PtE run, beside ``metrics.json``.
SLICES_FILE = "slices.json"


def ranks_frame(ds: Dataset, examples: pl.DataFrame, method: str, res: RankResult) -> pl.DataFrame:
    """``ranks.parquet`` rows of one method: target rank and top-10 item ids per example."""
    ids = ds.item_ids
    return pl.DataFrame(
        {
            "method": method,
            "example_id": examples["example_id"],
            "user_id": examples["user_id"],
            "target_rank": res.target_ranks,
            "top10": [[ids[i] for i in row[:10] if i >= 0] for row in res.topk],
        }
    )


def summarise_groups(
    per_user: Mapping[str, Mapping[str, np.ndarray]],
    groups: Mapping[str, Sequence[str]],
    config: EvaluateConfig,
    users: np.ndarray | None = None,
) -> dict[str, Any]:
    """Means and CIs of every method; paired tests of each group member against the group's
    reference (the key), e.g. ``{"sasrec": ["sasrec+pte", ...]}``. ``users`` (each
    example's user) makes every interval and test resample whole users, as ``evaluate``
    does: a user with several test examples is one draw, not several independent ones."""
    result: dict[str, Any] = {"metrics": {}, "ci": {}, "comparisons": []}
    for reference, members in groups.items():
        subset = {m: dict(per_user[m]) for m in (reference, *members)}
        part = summarise(subset, dataclasses.replace(config, reference=reference), users)
        result["metrics"].update(part["metrics"])
        result["ci"].update(part["ci"])
        result["comparisons"] += part["comparisons"]
    names = list(groups)
    result["reference"] = names[0] if len(names) == 1 else "each plain backbone"
    return result


def sliced_groups(
    per_user: Mapping[str, Mapping[str, np.ndarray]],
    groups: Mapping[str, Sequence[str]],
    masks: Mapping[str, np.ndarray],
    config: EvaluateConfig,
    users: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per slice (``masks``: name -> example mask): ``n``, means, CIs and each group member's
    paired test against its group's reference on the slice's examples, resampling ``users``
    when given; the ``slices.json`` a ProEx or PtE run writes beside ``metrics.json``."""
    slices: dict[str, Any] = {}
    for reference, members in groups.items():
        subset = {m: dict(per_user[m]) for m in (reference, *members)}
        part = sliced_summary(
            subset, dict(masks), config.bootstrap, config.seed, reference=reference, groups=users
        )
        for name, summary in part.items():
            merged = slices.setdefault(
                name, {"n": summary["n"], "metrics": {}, "ci": {}, "comparisons": []}
            )
            merged["metrics"].update(summary["metrics"])
            merged["ci"].update(summary["ci"])
            merged["comparisons"] += summary["comparisons"]
    return slices


def write_results(
    out_dir: str | Path, result: Mapping[str, Any], ranks: list[pl.DataFrame]
) -> None:
    """``metrics.json`` and ``ranks.parquet``, each replaced atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (METRICS_FILE + ".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    os.replace(tmp, out / METRICS_FILE)
    pl.concat(ranks).write_parquet(out / (RANKS_FILE + ".tmp"))
    os.replace(out / (RANKS_FILE + ".tmp"), out / RANKS_FILE)


def evaluation_examples(
    dataset: Dataset, split: str, n_items: int, user_index: Mapping[str, int]
) -> pl.DataFrame:
    """The ``split`` examples a trained recommender is about to rank, checked against what it
    was trained on (catalogue size, known users), so a mismatch is a clear error."""
    examples = dataset.split(split)
    if examples.is_empty():
        raise UserError(f"the dataset has no {split} examples to evaluate")
    if n_items != len(dataset.item_ids):
        raise UserError(
            f"model was trained on {n_items} items but the dataset has "
            f"{len(dataset.item_ids)}; evaluate on the dataset it was trained on"
        )
    unknown = [u for u in examples["user_id"] if u not in user_index]
    if unknown:
        raise UserError(f"user {unknown[0]!r} was not in the training dataset")
    return examples
