"""The one resumable generation engine: planned batches -> part files -> ``{key: text}``.

Every LLM-generation job of profilerec (the ``profile`` stage, ProEx's chains, PtE's
rounds) is a list of ``(key, prompt)`` jobs whose keys hash everything the text depends on
(prompt, model, settings; see :func:`cache_key`). :func:`generate_missing` cuts the jobs
into fixed batches in the order given, skips batches whose keys are all in the part files
already, hands the rest to a :class:`BatchRunner` and writes each finished batch as its
own part file (atomically, :func:`profilerec.atomic.write_file_atomic`). Because the plan
depends only on the jobs and the batch size, and generators derive each batch's sampling
seed from the batch itself, a killed and resumed run writes exactly what an uninterrupted
one would, and a batch that is redone overwrites its own part file instead of adding rows.

Runners only turn batches into texts, in any order: :class:`LocalRunner` here, in this
process; ``profilerec.engines.ray_profile.RayRunner`` over a Ray actor pool. What a batch
*is* is the ``work``: a :class:`GenerationConfig` (one ``generate`` call) or any picklable
:class:`BatchWork` (e.g. ProEx's four-step chain, which returns one JSON text per prompt),
so every job that plugs in here gets ``--engine ray`` for free.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import polars as pl

from profilerec.atomic import write_file_atomic
from profilerec.llm.base import GenerationConfig, Generator, Messages

#: The hidden folder of part files inside a job's output folder.
PARTS_DIR = ".parts"
#: One batch to generate: its index (part file number) and its prompts.
Batch = tuple[int, list[Messages]]
#: The column of the texts in a part file (``profile``: the format the profile stage has
#: always written, so parts of earlier runs resume).
TEXT_COLUMN = "profile"


class BatchWork(Protocol):
    """What one batch costs beyond a single ``generate`` call; must pickle for Ray."""

    def __call__(self, generator: Generator, prompts: list[Messages]) -> list[str]:
        """One text per prompt."""
        ...


#: A plain generation (its config) or a custom batch work.
Work = GenerationConfig | BatchWork


def do_work(generator: Generator, prompts: list[Messages], work: Work) -> list[str]:
    """Run ``work`` on one batch; the same code in this process and in a Ray actor."""
    if isinstance(work, GenerationConfig):
        return generator.generate(prompts, work)
    return work(generator, prompts)


@runtime_checkable
class BatchRunner(Protocol):
    """Turns planned batches into completions; results may arrive in any order."""

    #: The generator's ``model_id`` (part of every cache key).
    model_id: str

    def run(self, batches: list[Batch], config: Work) -> Iterable[tuple[int, list[str]]]:
        """Yield ``(batch index, one text per prompt)`` once per batch."""
        ...


class LocalRunner:
    """The local engine: each batch in turn, in this process."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.model_id = generator.model_id

    def run(self, batches: list[Batch], config: Work) -> Iterator[tuple[int, list[str]]]:
        for b, prompts in batches:
            yield b, do_work(self.generator, prompts, config)


def as_runner(generator: Generator | BatchRunner) -> BatchRunner:
    """A runner as is; a plain generator wrapped in :class:`LocalRunner`."""
    return generator if isinstance(generator, BatchRunner) else LocalRunner(generator)


def cache_key(prompt: Messages, model_id: str, gen: GenerationConfig) -> str:
    """The hash that names one generated text: prompt, model and decoding settings."""
    payload = json.dumps([prompt, model_id, gen.key_fields()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def load_parts(parts_dir: Path, prefix: str = "part", column: str = TEXT_COLUMN) -> dict[str, str]:
    """``{key: text}`` of every ``PREFIX-*.parquet`` part holding ``cache_key`` and ``column``.

    Parts of another format sharing the folder (another stage's, an older scheme's) are
    skipped, so their owner can read them its own way.
    """
    done: dict[str, str] = {}
    for part in sorted(parts_dir.glob(f"{prefix}-*.parquet")):
        frame = pl.read_parquet(part)
        if {"cache_key", column} <= set(frame.columns):
            done.update(zip(frame["cache_key"], frame[column], strict=True))
    return done


def plan_batches(keys: Sequence[str], batch_size: int, done: dict[str, str]) -> list[range]:
    """Row ranges of the batches still to generate (a batch is done when all its keys are).

    Every batch keeps its index (``range.start // batch_size``), so the plan of a resumed
    run is the uninterrupted run's plan minus what is finished.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ranges = [range(i, min(i + batch_size, len(keys))) for i in range(0, len(keys), batch_size)]
    return [rows for rows in ranges if not all(keys[r] in done for r in rows)]


def generate_missing(
    jobs: Sequence[tuple[str, Messages]],
    runner: BatchRunner,
    work: Work,
    parts_dir: Path,
    *,
    batch_size: int,
    prefix: str = "part",
    column: str = TEXT_COLUMN,
    done: dict[str, str] | None = None,
    on_batch: Callable[[int], None] | None = None,
    stop_after_batches: int | None = None,
) -> dict[str, str]:
    """Generate the texts of ``jobs`` not yet in ``parts_dir``; return ``{key: text}`` of all.

    ``done`` (default: :func:`load_parts` of ``parts_dir``) is updated in place and
    returned, so a caller with an older part format can pass what it read. Texts are
    stripped. ``on_batch(n_rows)`` is called after each part file is written (progress).
    ``stop_after_batches`` simulates a kill (tests): checked before asking for the next
    batch, so a simulated kill generates no more.
    """
    parts_dir.mkdir(parents=True, exist_ok=True)
    done = load_parts(parts_dir, prefix, column) if done is None else done
    keys = [k for k, _ in jobs]
    todo = plan_batches(keys, batch_size, done)
    rows_of = {rows.start // batch_size: rows for rows in todo}
    planned = [(b, [jobs[r][1] for r in rows]) for b, rows in rows_of.items()]
    results = iter(runner.run(planned, work)) if planned else iter(())
    for n in itertools.count():
        if stop_after_batches is not None and n >= stop_after_batches and planned:
            raise KeyboardInterrupt
        if (result := next(results, None)) is None:
            break
        b, texts = result
        rows = rows_of[b]
        if len(texts) != len(rows):
            raise RuntimeError(f"generator returned {len(texts)} texts for {len(rows)} prompts")
        part = pl.DataFrame(
            {"cache_key": [keys[r] for r in rows], column: [t.strip() for t in texts]},
            schema={"cache_key": pl.String, column: pl.String},
        )
        write_file_atomic(parts_dir / f"{prefix}-{b:06d}.parquet", part.write_parquet)
        done.update(zip(part["cache_key"], part[column], strict=True))
        if on_batch is not None:
            on_batch(len(rows))
    return done
