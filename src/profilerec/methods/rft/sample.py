"""One round's candidates: the greedy profile and N samples per training example, scored.

Written in parts of ``gen_batch_size`` examples, each part atomically, so a killed round
resumes at the first missing part (generation is nearly all of a round's time).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from profilerec.llm.base import GenerationConfig
from profilerec.llm.hf import TransformersGenerator
from profilerec.methods.rewards import EmbeddingReward
from profilerec.methods.rft.config import RFTConfig

#: ``sample`` value of the greedy profile in a candidates table.
GREEDY = -1


@contextlib.contextmanager
def autocast(enabled: bool) -> Iterator[None]:
    """bf16 autocast on the CPU when asked (the trainer checks the CPU runs it natively)."""
    if enabled and not torch.cuda.is_available():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield
    else:
        yield


def _configs(cfg: RFTConfig, round_: int) -> list[tuple[int, GenerationConfig]]:
    greedy = GenerationConfig(max_new_tokens=cfg.max_new_tokens)
    sampled = [
        (
            k,
            GenerationConfig(
                max_new_tokens=cfg.max_new_tokens,
                temperature=cfg.sample_temperature,
                top_p=cfg.top_p,
                # A distinct, reproducible stream per (seed, round, sample).
                seed=cfg.seed * 1_000_003 + round_ * 1_009 + k + 1,
            ),
        )
        for k in range(cfg.num_samples)
    ]
    return [(GREEDY, greedy), *sampled]


def sample_round(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    reward: EmbeddingReward,
    cfg: RFTConfig,
    folder: Path,
    round_: int,
    *,
    progress: bool = True,
) -> pl.DataFrame:
    """Candidates of every row: example_id, sample (-1 = greedy), profile, reward."""
    folder.mkdir(parents=True, exist_ok=True)
    gen = TransformersGenerator.wrap(model, tokenizer, "policy", batch_size=cfg.gen_batch_size)
    configs = _configs(cfg, round_)
    step = cfg.gen_batch_size
    parts = [folder / f"part-{i // step:05d}.parquet" for i in range(0, len(rows), step)]
    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    was_training = model.training
    model.eval()
    try:
        with Progress(*columns, disable=not progress) as bar:
            task = bar.add_task(f"round {round_} candidates", total=len(rows))
            for n, path in enumerate(parts):
                chunk = rows[n * step : (n + 1) * step]
                if not path.exists():
                    _write(path, _score(gen, chunk, configs, reward, cfg.bf16))
                bar.advance(task, len(chunk))
    finally:
        model.train(was_training)
    return pl.concat([pl.read_parquet(p) for p in parts]).sort("example_id", "sample")


def _score(
    gen: TransformersGenerator,
    chunk: list[dict[str, Any]],
    configs: list[tuple[int, GenerationConfig]],
    reward: EmbeddingReward,
    bf16: bool,
) -> pl.DataFrame:
    prompts = [r["prompt"] for r in chunk]
    records: dict[str, list[Any]] = {"example_id": [], "sample": [], "profile": [], "reward": []}
    for k, gcfg in configs:
        with autocast(bf16):
            texts = gen.generate(prompts, gcfg)
        vecs = reward.embedder.embed(texts)
        vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        for row, text, vec in zip(chunk, texts, vecs, strict=True):
            value = reward.score(vec, list(row["positives"]), list(row["history_idx"]))
            records["example_id"].append(int(row["example_id"]))
            records["sample"].append(k)
            records["profile"].append(text)
            # An empty profile retrieves nothing: it must never be picked as a winner.
            records["reward"].append(value if text.strip() else float("-inf"))
    return pl.DataFrame(records, schema_overrides={"sample": pl.Int32, "reward": pl.Float64})


def _write(path: Path, frame: pl.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def select_winners(candidates: pl.DataFrame, min_gain: float) -> pl.DataFrame:
    """Per example, the best sample if it beats the greedy profile by more than ``min_gain``.

    Returns example_id, profile, reward, greedy_reward. Ties go to the lower sample index,
    so the choice does not depend on row order.
    """
    greedy = candidates.filter(pl.col("sample") == GREEDY).select(
        "example_id", pl.col("reward").alias("greedy_reward")
    )
    best = (
        candidates.filter(pl.col("sample") != GREEDY)
        .sort("example_id", pl.col("reward"), "sample", descending=[False, True, False])
        .group_by("example_id", maintain_order=True)
        .first()
    )
    return (
        best.join(greedy, on="example_id")
        .filter(pl.col("reward") > pl.col("greedy_reward") + min_gain)
        .select("example_id", "profile", "reward", "greedy_reward")
        .sort("example_id")
    )
