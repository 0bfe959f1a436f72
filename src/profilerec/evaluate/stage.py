"""The ``evaluate`` stage: rank the whole catalogue per example, score, compare methods.

Writes ``metrics.json`` (method -> metric -> value, bootstrap CIs, paired comparisons)
and ``ranks.parquet`` (per example and method: the target's rank and the top-10 items).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.console import Console

from profilerec.atomic import write_text_atomic
from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.evaluate import methods as M
from profilerec.evaluate import registry as R
from profilerec.evaluate.checks import check_evaluate_inputs
from profilerec.evaluate.metrics_file import METRICS_FILE, dataset_fingerprint, read_metrics_of
from profilerec.evaluate.protocol import EvaluateConfig, summarise
from profilerec.evaluate.quality import quality_blocks
from profilerec.evaluate.slices import evaluate_slice_masks, sliced_summary
from profilerec.progress import step
from profilerec.retrieval import (
    default_metrics,
    per_user_table,
    rank_by_embeddings,
    rank_by_scores,
)

#: The method names (``evaluate.registry``): ID baselines, tuned on validation (popularity
#: and sasrec among them); ``hybrid`` fuses the best of them with mean_history.
ID_METHODS = R.ID_METHODS
BASE_METHODS = R.BASE_METHODS
__all__ = ["BASE_METHODS", "ID_METHODS", "EvaluateConfig", "run_evaluate", "summarise"]
RANKS_FILE = "ranks.parquet"


def run_evaluate(
    ds: Dataset,
    embedder: Embedder,
    out_dir: str | Path,
    config: EvaluateConfig,
    profiles: dict[str, pl.DataFrame] | None = None,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    profiles = profiles or {}
    examples = ds.split(config.split).sort("example_id")
    if config.limit:
        examples = examples.head(config.limit)
    if examples.height == 0:
        raise UserError(f"the dataset has no {config.split} examples")
    check_evaluate_inputs(examples, profiles, config.methods, BASE_METHODS, config.reference)
    console = Console(stderr=True, quiet=not progress)
    index = ds.item_index
    targets = [index[i] for i in examples["item_id"]]
    masks = ds.seen_before(examples) if config.mask_history else [[] for _ in targets]

    with step("embedding the catalogue", enabled=progress):
        item_vecs = embedder.embed(ds.item_texts(config.item_text_budget))
    id_names = [m for m in config.methods if m in ID_METHODS]
    # what the models that rank this split learned from (slices are defined on it, too)
    fit_data = ds.with_valid_as_train() if config.refit and config.split == "test" else ds
    refitted: dict[str, Any] = {}
    id_outputs, models, tuning = M.id_baselines(
        ds,
        examples,
        id_names,
        tune=config.tune,
        untuned=config.untuned,
        params=config.baseline_params,
        seed=config.seed,
        progress=progress,
        reuse=reused_tuning(ds, config.tuning_from, id_names) if config.tuning_from else None,
        refit_on=fit_data if fit_data is not ds else None,
        refitted=refitted,
    )
    # The best ID baseline is the one with the best VALIDATION NDCG@10, never test.
    best_id = max(id_names, key=lambda n: tuning[n]["valid_ndcg@10"]) if id_names else None
    # every method through the registry, as ``serve`` ranks the same names
    inputs = R.Inputs(
        ds, examples, embedder, item_vecs, profiles, {n: refitted.get(n, models[n]) for n in models}
    )
    outputs: dict[str, M.MethodOutput] = {}
    for name in R.evaluated_names(config.methods, list(profiles)):
        m = R.method(name)
        if m.kind == "id":
            outputs[name] = id_outputs[name]
            continue
        with step(f"method {name}", enabled=progress):
            if m.kind != "hybrid":
                outputs[name] = R.output(m, inputs)
                continue
            assert best_id is not None
            record = _tune_hybrid(inputs, m, models[best_id], config.hybrid_min_valid)
            if record is None:
                console.print(
                    f"no {name}: the set has fewer than {config.hybrid_min_valid} "
                    "validation profiles to tune its weight on"
                )
                continue
            tuning[name] = record
            outputs[name] = R.output(m, inputs, weight=record["chosen"]["weight"], id_model=best_id)

    k = max(config.ks)
    metric_objs = default_metrics(config.ks)
    per_user: dict[str, dict[str, np.ndarray]] = {}
    rank_rows = []
    for name, out in outputs.items():
        if out.vectors is not None:
            res = rank_by_embeddings(
                out.vectors, item_vecs, targets, masks, k=k, chunk_size=config.chunk_size
            )
        else:
            assert out.scores is not None
            res = rank_by_scores(
                out.scores, examples.height, targets, masks, k=k, chunk_size=config.chunk_size
            )
        per_user[name] = per_user_table(res.target_ranks, metric_objs)
        ids = ds.item_ids
        rank_rows.append(
            pl.DataFrame(
                {
                    "method": name,
                    "example_id": examples["example_id"],
                    "user_id": examples["user_id"],
                    "target_rank": res.target_ranks,
                    "top10": [[ids[i] for i in row[:10] if i >= 0] for row in res.topk],
                }
            )
        )
    # Several examples per user (user-disjoint splits, all positions): resample users.
    groups = (
        examples["user_id"].to_numpy() if examples["user_id"].n_unique() < examples.height else None
    )
    result = summarise(per_user, config, groups)
    masks_by_slice = evaluate_slice_masks(
        fit_data,
        examples,
        cold_item_max=config.cold_item_max,
        short_history_max=config.short_history_max,
        tail_item_frac=config.tail_item_frac,
    )
    if best_id is not None:  # every method read against the best ID baseline, too
        vs = summarise(per_user, dataclasses.replace(config, reference=best_id), groups)
        result["comparisons_vs_best_id"] = vs["comparisons"]
    result.update(
        best_id_baseline=best_id,
        tuning=tuning,
        # per profile set: length, cuts, sameness, invented personal data, grounding
        profile_quality=quality_blocks(
            ds,
            examples,
            {p: outputs[p].texts or [] for p in profiles},
            {p: outputs[p].vectors for p in profiles},
            ds.item_texts(config.item_text_budget),
        ),
        slices=sliced_summary(
            per_user,
            masks_by_slice,
            config.bootstrap,
            config.seed,
            reference=result["reference"],
            groups=groups,
        ),
    )
    result.update(
        dataset_fingerprint=dataset_fingerprint(ds),
        resampled="users" if groups is not None else "examples",
        split=config.split,
        n_examples=examples.height,
        n_items=len(ds.item_ids),
        embedder=embedder.model_id,
        config=dataclasses.asdict(config),
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / METRICS_FILE, json.dumps(result, indent=2))
    ranks = pl.concat(rank_rows)
    ranks.write_parquet(out_dir / (RANKS_FILE + ".tmp"))
    os.replace(out_dir / (RANKS_FILE + ".tmp"), out_dir / RANKS_FILE)
    return result


def reused_tuning(ds: Dataset, source: str, names: list[str]) -> dict[str, Any]:
    """The ``tuning`` records of an earlier evaluation of ``ds``, for ``--tuning-from``."""
    path, earlier = read_metrics_of(ds, source, "--tuning-from")
    records = earlier.get("tuning") or {}
    found = {
        name: records[name] | {"reused_from": str(path)}
        for name in names
        if isinstance(records.get(name), dict) and "chosen" in records[name]
    }
    if not found:
        raise UserError(f"--tuning-from {source}: it tuned none of {', '.join(names)}")
    return found


def _tune_hybrid(
    inputs: R.Inputs, m: R.Method, model: Any, min_valid: int
) -> dict[str, Any] | None:
    """The weight of hybrid ``m`` (the best ID model, train-only, fused with its text side),
    chosen on validation; for a profile set, on the validation examples the set covers (all
    of them, or a sample of at least ``min_valid``; never test); None when it covers fewer."""
    valid = inputs.ds.split("valid")
    side = m.text_side
    assert side is not None
    if m.profile_set is not None:
        frame = inputs.profiles[m.profile_set]
        covered = valid.filter(pl.col("example_id").is_in(frame["example_id"].implode()))
        if covered.is_empty() or (covered.height < valid.height and covered.height < min_valid):
            return None
        valid = covered
    return M.tune_hybrid_weight(
        inputs.ds,
        model,
        inputs.item_vecs,
        lambda rows: inputs.text_vectors(side, rows),
        side,
        valid=valid if m.profile_set is not None else None,
    )
