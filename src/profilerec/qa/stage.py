"""The ``qa`` stage: ask a frozen reader about each test example's target under each context.

Writes ``metrics.json`` (task -> context -> metric, bootstrap CIs, paired tests against the
reference context, the trivial rating predictors) and ``answers.parquet`` (one row per
example, task and context). Every answer is cached by (reader, prompt), so re-runs are instant.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from profilerec.atomic import atomic_folder, check_target
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.evaluate.methods import profile_texts
from profilerec.progress import Tasks, progress_tasks
from profilerec.qa import choice, rating, review
from profilerec.qa.config import BASE_CONTEXTS, QAConfig
from profilerec.qa.prompts import build_contexts, item_title, questions, task_prompts
from profilerec.qa.reader import Reader
from profilerec.retrieval import bootstrap_ci, paired_bootstrap

METRICS_FILE = "metrics.json"
ANSWERS_FILE = "answers.parquet"
TRIVIAL = ("user_mean", "item_mean", "global_mean")
#: The no-model row of the choice task.
CHOICE_BASELINE = "popularity"
#: Per-example value behind each reported metric; ``rmse`` is the root of the mean ``sq_err``.
METRIC_SOURCES = {
    "rating": {"mae": "abs_err", "rmse": "sq_err", "accuracy": "correct"},
    "choice": {"accuracy": "correct"},
    "review": {"rouge_l": "rouge_l"},
}
LOWER_IS_BETTER = {"mae", "rmse"}
#: Per context, per-example values by name; the rows of answers.parquet (column -> value);
#: and the positions (in the examples) of the values, for resampling by user.
TaskResult = tuple[dict[str, dict[str, np.ndarray]], list[dict[str, Any]], np.ndarray]


def select(ds: Dataset, config: QAConfig) -> pl.DataFrame:
    examples = ds.split(config.split).sort("example_id")
    if config.limit:
        examples = examples.head(config.limit)
    if examples.height == 0:
        raise UserError(f"the dataset has no {config.split} examples")
    return examples


def run_qa(
    ds: Dataset,
    reader: Reader,
    out_dir: str | Path,
    config: QAConfig,
    profiles: dict[str, pl.DataFrame] | None = None,
    *,
    progress: bool = True,
    finish: Callable[[Path, dict[str, Any]], None] | None = None,
    overwrite: bool | None = None,
) -> dict[str, Any]:
    """Ask, score and write ``out_dir`` (metrics.json, answers.parquet) as one atomic folder.

    ``finish(tmp, result)`` writes further files of the run (the CLI's report.html) into
    the temporary folder before the swap, so an interrupt or a full disk never leaves a
    report beside another run's metrics. ``overwrite`` replaces a folder that is not a QA
    run or holds other files (None: the caller has no ``--overwrite``).
    """
    profiles = profiles or {}
    clash = set(profiles) & {*BASE_CONTEXTS, *TRIVIAL, CHOICE_BASELINE}
    if clash:
        raise UserError(f"profile set name(s) {sorted(clash)} are reserved; rename them")
    check_target(Path(out_dir), METRICS_FILE, "qa output", overwrite=overwrite)  # before any pass
    examples = select(ds, config)
    texts = {n: profile_texts(examples, f, n) for n, f in profiles.items()}
    contexts = build_contexts(ds, examples, texts, config)
    titles = dict(ds.items.select("item_id", "title").iter_rows())
    base = examples.select("example_id", "user_id", "item_id")
    per: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    groups: dict[str, np.ndarray] = {}
    users = examples["user_id"].to_numpy()
    frames: list[pl.DataFrame] = []
    seconds: dict[str, float] = {}
    # rich bars on a terminal; in a log, a line every few seconds (done/total, rate, ETA)
    with progress_tasks(enabled=progress) as bar:
        for task in config.tasks:
            start = time.perf_counter()
            runner = {"rating": _rating, "choice": _choice, "review": _review}[task]
            per[task], rows, scored = runner(ds, examples, contexts, titles, reader, config, bar)
            groups[task] = users[scored]
            frames.extend(base.with_columns(pl.lit(task).alias("task"), **r) for r in rows)
            seconds[task] = time.perf_counter() - start
    # Several examples per user (user-disjoint splits): every CI and test resamples users.
    several = len(set(users)) < len(users)
    result = summarise(per, config, groups if several else None)
    result.update(
        split=config.split,
        n_examples=examples.height,
        resampled="users" if several else "examples",
        reader=reader.model_id,
        contexts=list(contexts),
        seconds=seconds,
        cache={"hits": reader.cache.hits, "misses": reader.cache.misses},
        config=dataclasses.asdict(config),
    )
    # the whole folder appears at once: a killed run leaves the old one (or none), never a mix
    with atomic_folder(out_dir, METRICS_FILE, "qa output", overwrite=overwrite) as tmp:
        pl.concat(frames, how="diagonal_relaxed").write_parquet(tmp / ANSWERS_FILE)
        (tmp / METRICS_FILE).write_text(json.dumps(result, indent=2))
        if finish is not None:
            finish(tmp, result)
    return result


def _rating(
    ds: Dataset,
    examples: pl.DataFrame,
    contexts: dict[str, list[str]],
    titles: dict[str, str],
    reader: Reader,
    config: QAConfig,
    bar: Tasks | None,
) -> TaskResult:
    truth = rating.true_ratings(ds, examples)
    asked = questions("rating", examples, titles, config)
    ids = reader.digit_ids(rating.DIGITS)
    per: dict[str, dict[str, np.ndarray]] = {}
    rows: list[dict[str, Any]] = []
    for name, ctx in contexts.items():
        reader.label = f"rating · {name}"
        lp = reader.next_token_logprobs(task_prompts(ctx, asked), ids, bar)
        probs, expected, top = rating.digit_prediction(lp)
        per[name] = rating.scores(expected, top, truth)
        rows.append(
            {
                "context": pl.lit(name),
                "truth": pl.Series(truth),
                "expected": pl.Series(expected),
                "prediction": pl.Series(top),
                "probs": pl.Series(probs.tolist()),
                **{k: pl.Series(v) for k, v in per[name].items()},
            }
        )
    for name, pred in rating.trivial_predictions(ds, examples).items():
        per[name] = rating.trivial_scores(pred, truth)
        rows.append(
            {
                "context": pl.lit(name),
                "truth": pl.Series(truth),
                "expected": pl.Series(pred),
                "prediction": pl.Series(np.clip(np.rint(pred), 1, 5)),
                **{k: pl.Series(v) for k, v in per[name].items()},
            }
        )
    return per, rows, np.arange(examples.height)


def _choice(
    ds: Dataset,
    examples: pl.DataFrame,
    contexts: dict[str, list[str]],
    titles: dict[str, str],
    reader: Reader,
    config: QAConfig,
    bar: Tasks | None,
) -> TaskResult:
    options, answers = choice.sample_options(ds, examples, config.n_negatives, config.seed)
    ids = ds.item_ids
    option_titles = [
        [item_title(titles, ids[o], config.item_chars) for o in opts] for opts in options
    ]
    per: dict[str, dict[str, np.ndarray]] = {}
    rows: list[dict[str, Any]] = []
    asked = {
        name: (ctx, questions("choice", examples, titles, config)) for name, ctx in contexts.items()
    }
    for name in [*contexts, CHOICE_BASELINE]:
        if name == CHOICE_BASELINE:  # most-interacted option in training; no model
            scores = choice.popularity_scores(ds, options)
        else:
            reader.label = f"choice · {name}"
            scores = reader.option_logliks(
                task_prompts(*asked[name]),
                option_titles,
                normalize=config.normalize_choice,
                bar=bar,
            )
        chosen = choice.pick(scores)
        per[name] = {"correct": (chosen == np.array(answers)).astype(np.float64)}
        rows.append(
            {
                "context": pl.lit(name),
                "options": pl.Series([[ids[o] for o in opts] for opts in options]),
                "option_scores": pl.Series(scores),
                "truth": pl.Series(np.array(answers, dtype=np.float64)),
                "prediction": pl.Series(chosen.astype(np.float64)),
                "correct": pl.Series(per[name]["correct"]),
            }
        )
    return per, rows, np.arange(examples.height)


def _review(
    ds: Dataset,
    examples: pl.DataFrame,
    contexts: dict[str, list[str]],
    titles: dict[str, str],
    reader: Reader,
    config: QAConfig,
    bar: Tasks | None,
) -> TaskResult:
    refs = review.true_titles(ds, examples)
    keep = [i for i, r in enumerate(refs) if r.strip()]
    if not keep:
        raise UserError("no example has a review title to compare with; drop --task review")
    asked = questions("review", examples, titles, config)
    per: dict[str, dict[str, np.ndarray]] = {}
    rows: list[dict[str, Any]] = []
    for name, ctx in contexts.items():
        reader.label = f"review · {name}"
        prompts = task_prompts([ctx[i] for i in keep], [asked[i] for i in keep])
        preds = reader.generate(prompts, config.review_tokens, bar)
        scores = review.rouge_l(preds, [refs[i] for i in keep])
        per[name] = {"rouge_l": scores}
        full = np.full(examples.height, np.nan)
        full[keep] = scores
        texts: list[str | None] = [None] * examples.height
        for i, p in zip(keep, preds, strict=True):
            texts[i] = p
        rows.append(
            {
                "context": pl.lit(name),
                "truth_text": pl.Series(refs, dtype=pl.String),
                "generated": pl.Series(texts, dtype=pl.String),
                "rouge_l": pl.Series(full),
            }
        )
    return per, rows, np.asarray(keep)


def summarise(
    per: dict[str, dict[str, dict[str, np.ndarray]]],
    config: QAConfig,
    groups: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Means with bootstrap CIs, and paired bootstrap tests of every context against the
    reference; ``groups`` (per task, the user of each value) resamples whole users."""
    metrics: dict[str, dict[str, dict[str, float]]] = {}
    ci: dict[str, dict[str, dict[str, list[float]]]] = {}
    comparisons = []
    for task, by_name in per.items():
        metrics[task], ci[task] = {}, {}
        users = None if groups is None else groups[task]
        for name, values in by_name.items():
            metrics[task][name], ci[task][name] = {}, {}
            for metric, source in METRIC_SOURCES[task].items():
                v = values[source]
                iv = bootstrap_ci(v, n_resamples=config.bootstrap, seed=config.seed, groups=users)
                low, mean, high = iv.low, float(v.mean()), iv.high
                if metric == "rmse":  # sqrt is monotone, so the percentile interval maps over
                    low, mean, high = math.sqrt(low), math.sqrt(mean), math.sqrt(high)
                metrics[task][name][metric] = mean
                ci[task][name][metric] = [low, high]
        pairs = [(n, config.reference) for n in by_name if n != config.reference]
        if task == "rating":  # "a context that does not beat the trivial means is not helping"
            pairs += [(n, t) for n in by_name if n not in TRIVIAL for t in TRIVIAL]
        if task == "choice":
            pairs += [(n, CHOICE_BASELINE) for n in by_name if n != CHOICE_BASELINE]
        for name, ref in pairs:
            if ref not in by_name:
                continue
            for metric, source in METRIC_SOURCES[task].items():
                if ref in TRIVIAL and metric != "mae":
                    continue  # against a trivial predictor: MAE only
                if metric == "rmse":
                    metric, source = "mse", "sq_err"
                test = paired_bootstrap(
                    by_name[name][source],
                    by_name[ref][source],
                    n_resamples=config.bootstrap,
                    seed=config.seed,
                    groups=users,
                )
                comparisons.append(
                    {
                        "task": task,
                        "context": name,
                        "reference": ref,
                        "metric": metric,
                        "lower_is_better": metric in LOWER_IS_BETTER | {"mse"},
                        "mean_diff": test.mean_diff,
                        "ci": [test.low, test.high],
                        "p_value": test.p_value,
                        "detectable": test.detectable(),
                    }
                )
    return {
        "kind": "qa",
        "metrics": metrics,
        "ci": ci,
        "reference": config.reference,
        "comparisons": comparisons,
    }
