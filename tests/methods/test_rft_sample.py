"""RFT's candidate sampling on the generation engine: a killed round resumes exactly, and a
round prints plain progress lines when stderr is not a terminal (a log)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from _progress import check_lines
from _rft import candidate_setup
from profilerec.methods.rft.config import RFTConfig
from profilerec.methods.rft.sample import CANDIDATES_FILE, GREEDY, sample_round
from profilerec.progress import INTERVAL_ENV
from profilerec.rewards import EmbeddingReward


@pytest.fixture(scope="module")
def setup(tiny_lm_dir: Path, tiny_st_dir: Path) -> tuple[Any, Any, EmbeddingReward, list[dict]]:  # type: ignore[type-arg]
    from profilerec.llm.hf import TransformersGenerator

    lm = TransformersGenerator(str(tiny_lm_dir))
    reward, rows = candidate_setup(tiny_st_dir)
    return lm.model, lm.tokenizer, reward, rows


CFG = RFTConfig(num_samples=2, max_new_tokens=4, gen_batch_size=2, bf16=False)


class Counting:
    """Counts the prompts the policy is asked to continue (through ``generate``)."""

    def __init__(self, model: Any) -> None:
        self.model, self.calls = model, 0
        self.inner = model.generate

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner(*args, **kwargs)


def test_killed_round_resumes_with_nothing_lost_or_duplicated(
    setup: tuple[Any, Any, EmbeddingReward, list[dict]],  # type: ignore[type-arg]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, tokenizer, reward, rows = setup
    whole = sample_round(model, tokenizer, rows, reward, CFG, tmp_path / "whole", 1, progress=False)
    assert whole.height == 5 * 3 and sorted(set(whole["sample"])) == [GREEDY, 0, 1]
    assert pl.read_parquet(tmp_path / "whole" / CANDIDATES_FILE).equals(whole)

    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        sample_round(
            model, tokenizer, rows, reward, CFG, out, 1, progress=False, stop_after_batches=2
        )
    assert len(list(out.glob("part-*.parquet"))) == 2 and not (out / CANDIDATES_FILE).exists()
    counting = Counting(model)
    monkeypatch.setattr(model, "generate", counting)
    resumed = sample_round(model, tokenizer, rows, reward, CFG, out, 1, progress=False)
    assert counting.calls == 3  # only the last batch (1 example): greedy + 2 samples
    assert resumed.equals(whole)
    parts = pl.concat(pl.read_parquet(p) for p in out.glob("part-*.parquet"))
    assert parts.height == 5 and parts["cache_key"].is_unique().all()


def test_scored_parts_of_the_earlier_scheme_resume(
    setup: tuple[Any, Any, EmbeddingReward, list[dict]],  # type: ignore[type-arg]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, tokenizer, reward, rows = setup
    whole = sample_round(model, tokenizer, rows, reward, CFG, tmp_path / "whole", 1, progress=False)
    old = tmp_path / "old"
    old.mkdir()
    whole.filter(pl.col("example_id") < 4).write_parquet(old / "part-00000.parquet")
    counting = Counting(model)
    monkeypatch.setattr(model, "generate", counting)
    resumed = sample_round(model, tokenizer, rows, reward, CFG, old, 1, progress=False)
    assert counting.calls == 3 and resumed.equals(whole)
    assert json.loads(pl.read_parquet(old / "part-000002.parquet")["profile"][0])  # the new part


def test_a_round_prints_lines_and_a_resumed_one_starts_at_its_parts(
    setup: tuple[Any, Any, EmbeddingReward, list[dict]],  # type: ignore[type-arg]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model, tokenizer, reward, rows = setup
    monkeypatch.setenv(INTERVAL_ENV, "0")  # a line on every batch
    with pytest.raises(KeyboardInterrupt):
        sample_round(model, tokenizer, rows, reward, CFG, tmp_path, 1, stop_after_batches=1)
    capsys.readouterr()
    sample_round(model, tokenizer, rows, reward, CFG, tmp_path, 1)
    lines = check_lines(capsys.readouterr().err, "round 1 candidates", 5, done=2)
    assert len(lines) == 3  # started at 2/5, then the two missing batches
