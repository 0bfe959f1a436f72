"""The ``profile`` stage: one LLM-written profile per example, batched, cached and resumable.

Resumability: examples are cut into fixed batches in ``example_id`` order and each
finished batch is written as its own part file keyed by a hash of (prompt, model,
generation settings). A re-run skips batches whose keys are all present, and the
generator derives each batch's sampling seed from the batch itself, so a killed and
resumed run writes exactly what an uninterrupted one would.

Engines: the batching, the part files and the resume live in
``profilerec.engines.generation`` (the one engine every generation job uses); a
``BatchRunner`` only turns batches into texts, in any order. ``LocalRunner`` runs them one
after another in this process; ``profilerec.engines.ray_profile.RayRunner`` spreads them
over a Ray actor pool. Both write the same part files and keys, so either resumes the
other, and a batch that is redone (a killed worker) overwrites its own part file.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from profilerec.atomic import write_file_atomic
from profilerec.data.dataset import Dataset
from profilerec.engines.generation import (
    PARTS_DIR,
    Batch,
    BatchRunner,
    LocalRunner,
    as_runner,
    cache_key,
    generate_missing,
    load_parts,
    plan_batches,
)
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Generator
from profilerec.llm.prompts import load_template
from profilerec.profile.guard import check_rerun
from profilerec.profile.prompts import HistoryFormat, build_prompts, check_profile_template
from profilerec.profile.quality import trim_to_sentence
from profilerec.progress import progress_bar

PROFILES_FILE = "profiles.parquet"


@dataclass
class ProfileConfig:
    """What to profile and how; written next to the profiles as ``profile_config.json``."""

    #: Method name recorded with each profile (``zero_shot``, ``blue``, ...).
    method: str = "zero_shot"
    #: Packaged template name or a template file path.
    template: str = "profile"
    #: Splits whose examples get a profile.
    splits: tuple[str, ...] = ("test",)
    #: Examples per generation call (and per resumable part file).
    batch_size: int = 16
    #: Profile at most this many examples per split (0 = all), the first by example_id.
    limit: int = 0
    #: Profile only the latest example of this many users per split (0 = every example),
    #: users drawn at random with ``sample_seed``: e.g. the validation profiles a hybrid
    #: tunes its weight on, at a fraction of the cost of every validation example.
    sample_users: int = 0
    sample_seed: int = 0
    history: HistoryFormat = field(default_factory=HistoryFormat)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    #: Keep each profile up to its last full sentence (the token limit stops most profiles
    #: mid-sentence); the part files keep the raw text, so this never changes a cache key.
    sentence_end: bool = True


#: Re-exported: the engine's names as this module has always offered them.
__all__ = [
    "PARTS_DIR",
    "PROFILES_FILE",
    "Batch",
    "BatchRunner",
    "LocalRunner",
    "ProfileConfig",
    "cache_key",
    "load_parts",
    "load_profiles",
    "run_profile",
    "sample_users",
    "select_examples",
]


def select_examples(ds: Dataset, config: ProfileConfig) -> pl.DataFrame:
    unknown = set(config.splits) - {"train", "valid", "test"}
    if unknown:
        raise UserError(f"unknown split(s) {sorted(unknown)}; choose from train, valid, test")
    parts = []
    for split in dict.fromkeys(config.splits):  # a split given twice is profiled once
        ex = ds.split(split).sort("example_id")
        if config.sample_users:
            ex = sample_users(ex, config.sample_users, config.sample_seed)
        parts.append(ex.head(config.limit) if config.limit else ex)
    return pl.concat(parts).sort("example_id")


def sample_users(examples: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """The latest example (highest position) of ``n`` users drawn at random (all if fewer)."""
    import numpy as np

    users = sorted(examples["user_id"].unique().to_list())
    rng = np.random.default_rng(seed)
    chosen = set(rng.permutation(len(users))[:n].tolist())
    keep = [u for i, u in enumerate(users) if i in chosen]
    latest = examples.filter(pl.col("user_id").is_in(keep)).sort("position")
    return latest.group_by("user_id").last().sort("example_id").select(examples.columns)


def run_profile(
    ds: Dataset,
    generator: Generator | BatchRunner,
    out_dir: str | Path,
    config: ProfileConfig,
    *,
    progress: bool = True,
    stop_after_batches: int | None = None,
    overwrite: bool = False,
    examples: pl.DataFrame | None = None,
) -> Path:
    """Write ``out_dir/profiles.parquet``; ``stop_after_batches`` simulates a kill (tests).

    ``generator`` is a Generator (run by ``LocalRunner``) or any ``BatchRunner``. A folder
    that already holds profiles is resumed or extended; a run that would drop its rows or
    change its settings is refused unless ``overwrite`` (``profile/guard.py``). ``examples``
    (rows of ``ds.examples``) replaces the config's selection: ``Profiler.profile_many``.
    """
    runner = as_runner(generator)
    out_dir = Path(out_dir)
    parts_dir = out_dir / PARTS_DIR
    parts_dir.mkdir(parents=True, exist_ok=True)
    if config.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    template = load_template(config.template)
    check_profile_template(template)
    examples = select_examples(ds, config) if examples is None else examples.sort("example_id")
    if examples.height == 0:
        raise UserError(f"no examples in split(s) {', '.join(config.splits)}")
    prompts = build_prompts(ds, examples, template, config.history)
    keys = [cache_key(p, runner.model_id, config.generation) for p in prompts]
    record = {**dataclasses.asdict(config), "model_id": runner.model_id}
    check_rerun(out_dir, examples["example_id"], record, overwrite)
    done = load_parts(parts_dir)
    (out_dir / "profile_config.json").write_text(json.dumps(record, indent=2))

    todo = plan_batches(keys, config.batch_size, done)
    resumed = len(prompts) - sum(len(rows) for rows in todo)
    # a rich bar on a terminal; in a log, a line every few seconds (done/total, rate, ETA)
    with progress_bar(
        f"profiling ({config.method})", len(prompts), done=resumed, enabled=progress
    ) as bar:
        generate_missing(
            list(zip(keys, prompts, strict=True)),
            runner,
            config.generation,
            parts_dir,
            batch_size=config.batch_size,
            done=done,
            on_batch=bar.advance,
            stop_after_batches=stop_after_batches,
        )

    finish = trim_to_sentence if config.sentence_end else str
    profiles = examples.select("example_id", "user_id", "split").with_columns(
        pl.lit(config.method).alias("method"),
        pl.Series("profile", [finish(done[k]) for k in keys], dtype=pl.String),
        pl.Series("prompt", [json.dumps(p, ensure_ascii=False) for p in prompts], dtype=pl.String),
        pl.Series("cache_key", keys, dtype=pl.String),
        pl.lit(runner.model_id).alias("model_id"),
        pl.lit(json.dumps(dataclasses.asdict(config.generation))).alias("generation"),
        pl.lit(template.name).alias("template"),
    )
    path = out_dir / PROFILES_FILE
    write_file_atomic(path, profiles.write_parquet)
    return path


def load_profiles(path: str | Path) -> pl.DataFrame:
    """Read ``profiles.parquet`` from a file or a profile output folder."""
    path = Path(path)
    if path.is_dir():
        path = path / PROFILES_FILE
    if not path.is_file():
        raise UserError(f"{path}: no profiles here; run `profilerec profile` first")
    return pl.read_parquet(path)
