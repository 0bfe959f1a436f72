"""One round's candidates: the greedy profile and N samples per training example, scored.

Generation runs on the one generation engine (``profilerec.engines.generation``): a
batch's work is the greedy profile and the N samples of ``gen_batch_size`` examples
(:class:`CandidateWork`), written as one part file ``part-NNNNNN.parquet`` (``cache_key`` +
one JSON list of texts per example, greedy first), atomically, so a killed round resumes
at the missing parts (generation is nearly all of a round's time). The texts are then
scored together and the round's table is written as ``candidates.parquet``. Scored parts
of the earlier scheme (``part-NNNNN.parquet``: example_id, sample, profile, reward) still
resume. The local engine samples the policy being trained where it lives, in this process;
``engine: ray`` passes a ``RayRunner`` whose actors load the round's saved policy
(``methods/rft/engine.py``) and run the same :class:`CandidateWork`, so the part files, keys
and resume are the same on both engines.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

from profilerec.atomic import write_file_atomic
from profilerec.engines.generation import (
    BatchRunner,
    LocalRunner,
    generate_missing,
    load_parts,
    plan_batches,
)
from profilerec.llm.base import GenerationConfig, Generator, Messages
from profilerec.llm.hf import TransformersGenerator
from profilerec.methods.rft.config import RFTConfig
from profilerec.progress import progress_bar
from profilerec.rewards import EmbeddingReward

#: ``sample`` value of the greedy profile in a candidates table.
GREEDY = -1
#: The round's scored candidates (all examples), beside the part files.
CANDIDATES_FILE = "candidates.parquet"


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


@dataclass(frozen=True)
class CandidateWork:
    """The greedy profile and the samples of a batch as engine work: per prompt, one JSON
    list of texts in ``configs`` order (greedy first)."""

    configs: tuple[GenerationConfig, ...]
    bf16: bool

    def __call__(self, generator: Generator, prompts: list[Messages]) -> list[str]:
        per_config = []
        for gcfg in self.configs:
            with autocast(self.bf16):
                per_config.append(generator.generate(prompts, gcfg))
        return [json.dumps([texts[i] for texts in per_config]) for i in range(len(prompts))]


def candidate_key(row: dict[str, Any], round_: int, configs: list[GenerationConfig]) -> str:
    """An example's candidates in one round: its id, its prompt and every decoding setting
    (the policy is the round's, and each round has its own folder)."""
    payload = [int(row["example_id"]), round_, row["prompt"], [c.key_fields() for c in configs]]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


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
    runner: BatchRunner | None = None,
    stop_after_batches: int | None = None,
) -> pl.DataFrame:
    """Candidates of every row: example_id, sample (-1 = greedy), profile, reward.

    ``runner``: where the batches are generated (default: ``model`` in this process; a
    ``RayRunner`` of the same policy for ``engine: ray``). ``stop_after_batches`` simulates
    a kill after that many batches (tests).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if runner is None:
        runner = LocalRunner(
            TransformersGenerator.wrap(model, tokenizer, "policy", batch_size=cfg.gen_batch_size)
        )
    configs = _configs(cfg, round_)
    decodings = [g for _, g in configs]
    keys = [candidate_key(r, round_, decodings) for r in rows]
    done = {**_legacy_parts(folder, rows, keys, len(configs)), **load_parts(folder)}
    todo = plan_batches(keys, cfg.gen_batch_size, done)
    resumed = len(rows) - sum(len(r) for r in todo)
    was_training = model.training
    model.eval()
    try:
        # a rich bar on a terminal; in a log, a line every few seconds (done/total, rate, ETA)
        with progress_bar(
            f"round {round_} candidates", len(rows), done=resumed, enabled=progress
        ) as bar:
            generate_missing(
                [(k, r["prompt"]) for k, r in zip(keys, rows, strict=True)],
                runner,
                CandidateWork(tuple(decodings), cfg.bf16),
                folder,
                batch_size=cfg.gen_batch_size,
                done=done,
                on_batch=bar.advance,
                stop_after_batches=stop_after_batches,
            )
    finally:
        model.train(was_training)
    texts = [json.loads(done[k]) for k in keys]
    frame = _score(rows, texts, [k for k, _ in configs], reward)
    write_file_atomic(folder / CANDIDATES_FILE, frame.write_parquet)
    return frame


def _score(
    rows: list[dict[str, Any]],
    texts: list[list[str]],
    samples: list[int],
    reward: EmbeddingReward,
) -> pl.DataFrame:
    """Every candidate's reward; an empty profile retrieves nothing, so it never wins."""
    n = len(samples)
    flat = [t for per_row in texts for t in per_row]
    values = reward.score_texts(
        flat,
        [list(r["positives"]) for r in rows for _ in range(n)],
        [list(r["history_idx"]) for r in rows for _ in range(n)],
    )
    empty = np.array([not t.strip() for t in flat], dtype=bool)
    frame = pl.DataFrame(
        {
            "example_id": [int(r["example_id"]) for r in rows for _ in range(n)],
            "sample": samples * len(rows),
            "profile": flat,
            "reward": np.where(empty, -np.inf, values),
        },
        schema_overrides={"sample": pl.Int32, "reward": pl.Float64},
    )
    return frame.sort("example_id", "sample")


def _legacy_parts(
    folder: Path, rows: list[dict[str, Any]], keys: list[str], n: int
) -> dict[str, str]:
    """Texts from scored parts of the scheme before the engine (``part-NNNNN.parquet``, ``n``
    candidates per example), in the engine's form, so a round killed under that scheme
    resumes (the rewards are recomputed, as they depend on the texts only)."""
    key_of = {int(r["example_id"]): k for r, k in zip(rows, keys, strict=True)}
    done: dict[str, str] = {}
    for path in sorted(folder.glob("part-[0-9][0-9][0-9][0-9][0-9].parquet")):
        frame = pl.read_parquet(path)
        if "sample" not in frame.columns:
            continue
        for group in frame.sort("sample").partition_by("example_id", maintain_order=True):
            eid = int(group["example_id"][0])
            if eid in key_of and group.height == n:
                done[key_of[eid]] = json.dumps(group["profile"].to_list())
    return done


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
