"""The ``evaluate`` stage: rank the whole catalogue per example, score, compare methods.

Writes ``metrics.json`` (method -> metric -> value, bootstrap CIs, paired comparisons)
and ``ranks.parquet`` (per example and method: the target's rank and the top-10 items).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
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
from profilerec.evaluate.checks import check_evaluate_inputs
from profilerec.evaluate.quality import quality_blocks
from profilerec.progress import step
from profilerec.retrieval import (
    bootstrap_ci,
    default_metrics,
    paired_bootstrap,
    per_user_table,
    rank_by_embeddings,
    rank_by_scores,
)

#: ID baselines (``profilerec.recsys.baselines``), tuned on validation; popularity and
#: sasrec are among them. ``hybrid`` fuses the best of them with mean_history.
ID_METHODS = ("popularity", "cooccurrence", "itemknn", "ease", "als", "bpr", "sasrec")
BASE_METHODS = (*ID_METHODS, "history_text", "mean_history", "hybrid")
METRICS_FILE = "metrics.json"
RANKS_FILE = "ranks.parquet"


@dataclass
class EvaluateConfig:
    """Evaluation protocol settings; written into metrics.json."""

    #: Split whose examples are ranked.
    split: str = "test"
    #: Methods that need no profiles; profile sets add ``<name>`` and ``history+<name>``.
    methods: tuple[str, ...] = BASE_METHODS
    #: Cut-offs for Recall/NDCG/HR.
    ks: tuple[int, ...] = (10, 20, 50)
    #: Character budget of each item's text for the embedder.
    item_text_budget: int = 300
    #: Users ranked per chunk (bounds memory: chunk x catalogue scores).
    chunk_size: int = 1024
    #: Bootstrap resamples for CIs and paired tests.
    bootstrap: int = 1000
    #: Method every other one is compared with (default: the first profile set, else history_text).
    reference: str | None = None
    #: Cut-offs of the paired tests (NDCG and Recall at each); None = the smallest of ``ks``.
    compare_ks: tuple[int, ...] | None = None
    #: Evaluate only the first N examples (0 = all).
    limit: int = 0
    seed: int = 0
    #: Tune every ID baseline and the hybrid on validation by their documented grids;
    #: False fits the documented defaults (the hybrid still picks its weight).
    tune: bool = True
    #: ID baselines fitted at their documented defaults even when ``tune`` is on
    #: (quickstart: sasrec, whose four-point grid costs minutes on a CPU).
    untuned: tuple[str, ...] = ()
    #: Fixed parameters per ID baseline, applied at every grid point, e.g.
    #: ``{"sasrec": {"epochs": 60}}`` (quickstart caps SASRec's epochs to stay under 10 min).
    baseline_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Slices: a target with at most this many training interactions is a cold item.
    cold_item_max: int = 5
    #: Slices: an example with 1..this many earlier items is a short-history user.
    short_history_max: int = 2
    #: Slices: the bottom fraction of items by training popularity is the long tail.
    tail_item_frac: float = 0.8
    #: Remove the user's earlier items from each ranking (the default, and how every
    #: baseline is tuned). False ranks the full catalogue as it is, the protocol of the
    #: generative-recommendation papers (MiniOneRec, TIGER) whose figures we set beside ours.
    mask_history: bool = True
    #: A profile set that covers only some validation examples (``profile --sample-users``)
    #: still gets its hybrid when it covers at least this many: the weight is chosen on them.
    hybrid_min_valid: int = 500
    #: An earlier evaluation folder (or its metrics.json) on the same dataset whose ID
    #: baselines' chosen parameters are reused instead of searching their grids again
    #: (each is refitted once; its tuning record is carried over with ``reused_from``).
    tuning_from: str | None = None
    #: Test split only: after choosing every ID baseline's parameters on validation (fitted
    #: on training interactions), fit it again at those parameters on everything before
    #: the user's first test target, validation targets included, and rank test with that
    #: (SASRec trains for the epochs early stopping kept). The hybrid's weight is still
    #: chosen with the train-only fit. Off: test is ranked by the train-only fit.
    refit: bool = False

    def __post_init__(self) -> None:  # fail before any model is loaded
        unknown = set(self.methods) - set(BASE_METHODS)
        if unknown:
            raise UserError(
                f"unknown method(s) {sorted(unknown)}; choose from {', '.join(BASE_METHODS)}"
            )
        if "hybrid" in self.methods and not set(self.methods) & set(ID_METHODS):
            raise UserError("the hybrid method needs at least one ID baseline among the methods")
        if not set(self.baseline_params) <= set(ID_METHODS):
            raise UserError(f"baseline_params must name ID baselines ({', '.join(ID_METHODS)})")
        if not set(self.untuned) <= set(ID_METHODS):
            raise UserError(f"untuned must name ID baselines ({', '.join(ID_METHODS)})")
        if self.compare_ks is not None and not set(self.compare_ks) <= set(self.ks):
            raise UserError(f"compare_ks {self.compare_ks} must be among ks {self.ks}")


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
    outputs: dict[str, M.MethodOutput] = {}
    need_history = "history_text" in config.methods or profiles
    hist = M.history_for_embedding(ds, examples) if need_history else []
    id_names = [m for m in config.methods if m in ID_METHODS]
    # what the models that rank this split learned from (slices are defined on it, too)
    fit_data = ds.with_valid_as_train() if config.refit and config.split == "test" else ds
    refitted: dict[str, Any] = {}
    want_hybrid = "hybrid" in config.methods
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
    for name in config.methods:
        with step(f"method {name}", enabled=progress and name not in id_outputs):
            if name in id_outputs:
                outputs[name] = id_outputs[name]
            elif name == "history_text":
                outputs[name] = M.embed_texts(embedder, hist)
            elif name == "mean_history":
                outputs[name] = M.mean_history(ds, examples, item_vecs)
            elif name == "hybrid":
                assert best_id is not None
                outputs[name], tuning[name] = M.hybrid(
                    ds,
                    examples,
                    models[best_id],
                    item_vecs,
                    lambda frame: M.mean_history(ds, frame, item_vecs).vectors,  # type: ignore[arg-type,return-value]
                    "mean_history",
                    test_model=refitted.get(best_id),
                )
    for pname, frame in profiles.items():
        texts = M.profile_texts(examples, frame, pname)
        with step(f"embedding profiles {pname}", enabled=progress):
            outputs[pname] = M.embed_texts(embedder, texts)
            outputs[f"history+{pname}"] = M.embed_texts(
                embedder, [M.profile_plus_history(p, h) for p, h in zip(texts, hist, strict=True)]
            )
        if want_hybrid:
            fused = _profile_hybrid(
                ds,
                examples,
                embedder,
                frame,
                pname,
                models[best_id],
                item_vecs,
                config.hybrid_min_valid,
                refitted.get(best_id),
            )
            if fused is not None:
                outputs[f"hybrid+{pname}"], tuning[f"hybrid+{pname}"] = fused
            else:
                console.print(
                    f"no hybrid+{pname}: the set has fewer than {config.hybrid_min_valid} "
                    "validation profiles to tune its weight on"
                )

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
    from profilerec.evaluate.slices import evaluate_slice_masks, sliced_summary

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


def dataset_fingerprint(ds: Dataset) -> str:
    """What identifies a prepared dataset across re-prepares: its sources, config and counts."""
    import hashlib

    keys = {k: ds.manifest.get(k) for k in ("format", "sources", "config", "counts")}
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode()).hexdigest()[:16]


def reused_tuning(ds: Dataset, source: str, names: list[str]) -> dict[str, Any]:
    """The ``tuning`` records of an earlier evaluation of ``ds``, for ``--tuning-from``."""
    path = Path(source)
    path = path / METRICS_FILE if path.is_dir() else path
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"--tuning-from {source}: cannot read {path} ({exc})") from None
    print_ = earlier.get("dataset_fingerprint")
    if earlier.get("n_items") != len(ds.item_ids) or (print_ and print_ != dataset_fingerprint(ds)):
        raise UserError(f"--tuning-from {source}: that evaluation was of another dataset")
    records = earlier.get("tuning") or {}
    found = {
        name: records[name] | {"reused_from": str(path)}
        for name in names
        if isinstance(records.get(name), dict) and "chosen" in records[name]
    }
    if not found:
        raise UserError(f"--tuning-from {source}: it tuned none of {', '.join(names)}")
    return found


def _profile_hybrid(
    ds: Dataset,
    examples: pl.DataFrame,
    embedder: Embedder,
    frame: pl.DataFrame,
    pname: str,
    model: Any,
    item_vecs: np.ndarray,
    min_valid: int,
    test_model: Any = None,
) -> tuple[M.MethodOutput, dict[str, Any]] | None:
    """The best ID model fused with a profile set, its weight chosen on the validation
    examples the set covers (all of them, or a sample of at least ``min_valid``; never
    test); None when it covers fewer."""
    valid = ds.split("valid")
    covered = valid.filter(pl.col("example_id").is_in(frame["example_id"].implode()))
    if covered.is_empty() or (covered.height < valid.height and covered.height < min_valid):
        return None

    def vectors(rows: pl.DataFrame) -> np.ndarray:
        return embedder.embed(M.profile_texts(rows, frame, pname), progress=False)

    return M.hybrid(
        ds, examples, model, item_vecs, vectors, pname, valid=covered, test_model=test_model
    )


def summarise(
    per_user: dict[str, dict[str, np.ndarray]],
    config: EvaluateConfig,
    groups: np.ndarray | None = None,
) -> dict[str, Any]:
    """Means, bootstrap CIs, and paired bootstrap tests of every method against the reference.

    ``groups`` (the user of each example) makes every interval and test resample users: a
    user's examples are correlated, and resampling them one by one overstates certainty.
    """
    metrics: dict[str, dict[str, float]] = {}
    ci: dict[str, dict[str, list[float]]] = {}
    for name, table in per_user.items():
        metrics[name], ci[name] = {}, {}
        for metric, values in table.items():
            interval = bootstrap_ci(
                values, n_resamples=config.bootstrap, seed=config.seed, groups=groups
            )
            metrics[name][metric] = float(values.mean())
            ci[name][metric] = [interval.low, interval.high]
    ref = config.reference or next(
        (
            m
            for m in per_user
            if m not in BASE_METHODS and not m.startswith(("history+", "hybrid+"))
        ),
        "history_text",
    )
    comparisons = []
    if ref in per_user:
        for name in per_user:
            if name == ref:
                continue
            cutoffs = config.compare_ks or (min(config.ks),)
            for metric in [f"{m}@{k}" for k in cutoffs for m in ("ndcg", "recall")]:
                test = paired_bootstrap(
                    per_user[name][metric],
                    per_user[ref][metric],
                    n_resamples=config.bootstrap,
                    seed=config.seed,
                    groups=groups,
                )
                comparisons.append(
                    {
                        "method": name,
                        "reference": ref,
                        "metric": metric,
                        "mean_diff": test.mean_diff,
                        "ci": [test.low, test.high],
                        "p_value": test.p_value,
                        # the smallest true difference this test finds with 80% power
                        "detectable": test.detectable(),
                    }
                )
    return {"metrics": metrics, "ci": ci, "reference": ref, "comparisons": comparisons}
