"""ProEx's long stages print plain progress lines when stderr is not a terminal (a log)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from _datasets import write_dataset
from _progress import check_lines, progress_lines
from profilerec.data.dataset import Dataset
from profilerec.methods.backbones.lightgcn import LightGCNConfig
from profilerec.methods.proex import ProExConfig, train_proex
from profilerec.methods.proex.cot import (
    ITEM_FILE,
    USER_FILE,
    ProExProfilesConfig,
    run_proex_profiles,
)
from profilerec.progress import INTERVAL_ENV

SEQS = {f"u{n}": [f"i{(n + j) % 6}" for j in range(5)] for n in range(1, 6)}


@pytest.fixture(autouse=True)
def _every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(INTERVAL_ENV, "0")  # a line on every step


@pytest.fixture
def small(tmp_path: Path) -> Dataset:
    return write_dataset(tmp_path / "ds", SEQS, catalogue=[f"i{j}" for j in range(7)])


def test_chain_profiles_print_lines(
    small: Dataset, tiny_lm_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from profilerec.llm.hf import TransformersGenerator

    lm = TransformersGenerator(str(tiny_lm_dir))
    config = ProExProfilesConfig(k=1, batch_size=2, max_new_tokens=4)
    with pytest.raises(KeyboardInterrupt):  # killed after the first user batch
        run_proex_profiles(small, lm, tmp_path / "p", config, stop_after_batches=1)
    capsys.readouterr()
    out = run_proex_profiles(small, lm, tmp_path / "p", config)
    err = capsys.readouterr().err
    users = pl.read_parquet(out / USER_FILE).height
    items = pl.read_parquet(out / ITEM_FILE).height
    assert users >= 4 and items >= 4
    check_lines(err, "ProEx user profiles (K=1)", users, done=2)  # the resumed batch counts
    check_lines(err, "ProEx item profiles (K=1)", items)


def test_training_prints_a_line_per_epoch(
    small: Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ProExConfig(backbone_config=LightGCNConfig(epochs=3))
    train_proex(small, "lightgcn", None, None, config, progress=True)
    lines = check_lines(capsys.readouterr().err, "lightgcn epochs", 3, status=r"loss [\d.]+")
    assert len(lines) == 4  # started, then one line per epoch


def test_early_stopping_ends_with_a_stopped_line(
    small: Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ProExConfig(
        backbone_config=LightGCNConfig(epochs=50, lr=0.0), patience=1, eval_every=1
    )
    train_proex(small, "lightgcn", None, None, config, progress=True)
    lines = progress_lines(capsys.readouterr().err, "lightgcn epochs")
    assert lines[-1].startswith("lightgcn epochs: 2/50 (4%), stopped after ")
