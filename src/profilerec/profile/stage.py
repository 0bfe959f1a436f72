"""The ``profile`` stage: one LLM-written profile per example, batched, cached and resumable.

Resumability: examples are cut into fixed batches in ``example_id`` order and each
finished batch is written as its own part file keyed by a hash of (prompt, model,
generation settings). A re-run skips batches whose keys are all present, and the
generator derives each batch's sampling seed from the batch itself, so a killed and
resumed run writes exactly what an uninterrupted one would.

Engines: the stage plans the batches and writes every part file itself; a ``BatchRunner``
only turns batches into texts, in any order. ``LocalRunner`` runs them one after another
in this process; ``profilerec.engines.ray_profile.RayRunner`` spreads them over a Ray
actor pool. Both write the same part files and keys, so either resumes the other, and a
batch that is redone (a killed worker) overwrites its own part file, never adds a row.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Generator, Messages
from profilerec.llm.prompts import load_template
from profilerec.profile.guard import check_rerun
from profilerec.profile.prompts import HistoryFormat, build_prompts, check_profile_template
from profilerec.profile.quality import trim_to_sentence
from profilerec.progress import progress_bar

PROFILES_FILE = "profiles.parquet"
PARTS_DIR = ".parts"


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


#: One batch to generate: its index (part file number) and its prompts.
Batch = tuple[int, list[Messages]]


@runtime_checkable
class BatchRunner(Protocol):
    """Turns planned batches into completions; results may arrive in any order."""

    #: The generator's ``model_id`` (part of every cache key).
    model_id: str

    def run(
        self, batches: list[Batch], config: GenerationConfig
    ) -> Iterable[tuple[int, list[str]]]:
        """Yield ``(batch index, one text per prompt)`` once per batch."""
        ...


class LocalRunner:
    """The local engine: each batch in turn, in this process."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.model_id = generator.model_id

    def run(
        self, batches: list[Batch], config: GenerationConfig
    ) -> Iterator[tuple[int, list[str]]]:
        for b, prompts in batches:
            yield b, self.generator.generate(prompts, config)


def cache_key(prompt: Messages, model_id: str, gen: GenerationConfig) -> str:
    payload = json.dumps([prompt, model_id, gen.key_fields()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


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
    runner = generator if isinstance(generator, BatchRunner) else LocalRunner(generator)
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

    batches = [
        range(i, min(i + config.batch_size, len(prompts)))
        for i in range(0, len(prompts), config.batch_size)
    ]
    todo = [(b, rows) for b, rows in enumerate(batches) if not all(keys[r] in done for r in rows)]
    resumed = len(prompts) - sum(len(rows) for _, rows in todo)
    # a rich bar on a terminal; in a log, a line every few seconds (done/total, rate, ETA)
    with progress_bar(
        f"profiling ({config.method})", len(prompts), done=resumed, enabled=progress
    ) as bar:
        planned = [(b, [prompts[r] for r in rows]) for b, rows in todo]
        rows_of = dict(todo)
        results = iter(runner.run(planned, config.generation))
        for n in itertools.count():
            # Checked before asking for the next batch, so a simulated kill generates no more.
            if stop_after_batches is not None and n >= stop_after_batches:
                raise KeyboardInterrupt
            if (result := next(results, None)) is None:
                break
            b, texts = result
            rows = rows_of[b]
            if len(texts) != len(rows):
                raise RuntimeError(f"generator returned {len(texts)} texts for {len(rows)} prompts")
            part = pl.DataFrame(
                {"cache_key": [keys[r] for r in rows], "profile": [t.strip() for t in texts]}
            )
            tmp = parts_dir / f"part-{b:06d}.tmp"
            part.write_parquet(tmp)
            os.replace(tmp, parts_dir / f"part-{b:06d}.parquet")
            done.update(zip(part["cache_key"], part["profile"], strict=True))
            bar.advance(len(rows))

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
    profiles.write_parquet(path.with_suffix(".tmp"))
    os.replace(path.with_suffix(".tmp"), path)
    return path


def load_parts(parts_dir: Path) -> dict[str, str]:
    done: dict[str, str] = {}
    for part in sorted(parts_dir.glob("part-*.parquet")):
        frame = pl.read_parquet(part)
        done.update(zip(frame["cache_key"], frame["profile"], strict=True))
    return done


def load_profiles(path: str | Path) -> pl.DataFrame:
    """Read ``profiles.parquet`` from a file or a profile output folder."""
    path = Path(path)
    if path.is_dir():
        path = path / PROFILES_FILE
    if not path.is_file():
        raise UserError(f"{path}: no profiles here; run `profilerec profile` first")
    return pl.read_parquet(path)
