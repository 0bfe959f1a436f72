"""The one generation engine: a killed run resumes with nothing lost or duplicated."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from profilerec.engines.generation import (
    LocalRunner,
    cache_key,
    generate_missing,
    load_parts,
)
from profilerec.llm.base import GenerationConfig, Generator, Messages

GEN = GenerationConfig(max_new_tokens=4)


class Echo:
    """A generator whose text names its prompt and seed; counts the prompts it is given."""

    model_id = "echo"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        texts = [f" {p[0]['content']}@{config.seed} " for p in prompts]
        self.seen += [p[0]["content"] for p in prompts]
        return texts


def jobs(n: int) -> list[tuple[str, Messages]]:
    prompts: list[Messages] = [[{"role": "user", "content": f"p{i}"}] for i in range(n)]
    return [(cache_key(p, "echo", GEN), p) for p in prompts]


def test_killed_run_resumes_with_nothing_lost_or_duplicated(tmp_path: Path) -> None:
    work = jobs(10)
    full = generate_missing(work, LocalRunner(Echo()), GEN, tmp_path / "full", batch_size=3)
    echo = Echo()
    with pytest.raises(KeyboardInterrupt):
        generate_missing(
            work, LocalRunner(echo), GEN, tmp_path / "cut", batch_size=3, stop_after_batches=2
        )
    assert len(echo.seen) == 6
    resumed = generate_missing(work, LocalRunner(echo), GEN, tmp_path / "cut", batch_size=3)
    assert resumed == full and len(full) == 10
    assert sorted(echo.seen) == sorted(f"p{i}" for i in range(10))  # each prompt once
    parts = pl.concat(pl.read_parquet(p) for p in (tmp_path / "cut").glob("part-*.parquet"))
    assert parts.height == 10 and parts["cache_key"].is_unique().all()
    assert full[work[0][0]] == "p0@0"  # stripped
    assert not list((tmp_path / "cut").glob(".*"))  # no temporary file left


def test_custom_work_and_prefix_and_foreign_parts(tmp_path: Path) -> None:
    def twice(generator: Generator, prompts: list[Messages]) -> list[str]:
        return [
            a + b for a, b in zip(*(generator.generate(prompts, GEN) for _ in "ab"), strict=True)
        ]

    pl.DataFrame({"key": ["x"], "texts": [["old"]]}).write_parquet(tmp_path / "user-000009.parquet")
    out = generate_missing(
        jobs(4), LocalRunner(Echo()), twice, tmp_path, batch_size=2, prefix="user", column="chain"
    )
    assert set(out.values()) == {f"p{i}@0  p{i}@0" for i in range(4)}
    assert load_parts(tmp_path, "user", "chain") == out  # the foreign part is skipped
    assert load_parts(tmp_path) == {}


def test_generator_returning_too_few_texts_is_an_error(tmp_path: Path) -> None:
    class Short(Echo):
        def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
            return super().generate(prompts, config)[:-1]

    with pytest.raises(RuntimeError, match="1 texts for 2 prompts"):
        generate_missing(jobs(2), LocalRunner(Short()), GEN, tmp_path, batch_size=2)


class _Twice:
    """A picklable work (module level, as Ray needs): each text twice."""

    def __call__(self, generator: Generator, prompts: list[Messages]) -> list[str]:
        return [t + t for t in generator.generate(prompts, GEN)]


def test_a_ray_actor_runs_any_work_as_the_local_runner_does() -> None:
    """``RayRunner``'s actor (called here without Ray) runs a pickled work, texts unchanged."""
    import json
    import pickle

    import numpy as np

    from profilerec.engines.ray_profile import _GenerateActor

    prompts = [p for _, p in jobs(3)]
    for work in (GEN, pickle.loads(pickle.dumps(_Twice()))):
        actor = _GenerateActor(Echo, work, cpus=0)
        out = actor({"batch": np.asarray([4]), "prompts": np.asarray([json.dumps(prompts)])})
        local = dict(LocalRunner(Echo()).run([(4, prompts)], work))
        assert int(out["batch"][0]) == 4 and json.loads(out["texts"][0]) == local[4]


def test_the_methods_works_pickle_for_ray() -> None:
    """ProEx's chain and RFT's candidates travel to Ray actors by pickle."""
    import pickle

    from profilerec.methods.proex.cot import ChainWork, ProExProfilesConfig, Templates
    from profilerec.methods.rft.sample import CandidateWork

    chain = ChainWork("user", ProExProfilesConfig(k=2), Templates.load())
    assert pickle.loads(pickle.dumps(chain)) == chain
    cands = CandidateWork((GEN, GenerationConfig(temperature=1.0, seed=2)), bf16=False)
    assert pickle.loads(pickle.dumps(cands)) == cands
