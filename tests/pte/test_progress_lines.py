"""PtE's long stages print plain progress lines when stderr is not a terminal (a log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from _datasets import write_dataset
from _progress import check_lines
from profilerec.methods.pte.backbones import PtEBackboneConfig, train_pte_backbone
from profilerec.methods.pte.profiling import PtEProfilesConfig, run_pte_profiles
from profilerec.progress import INTERVAL_ENV
from profilerec.recsys.sasrec import SASRecConfig

TRAIN = {"u1": ["a", "b", "c"], "u2": ["a", "b", "d"], "u3": ["c", "d", "e"], "u4": ["e", "a"]}


@pytest.fixture(autouse=True)
def _every_step(monkeypatch: pytest.MonkeyPatch, one_torch_thread: None) -> None:
    monkeypatch.setenv(INTERVAL_ENV, "0")  # a line on every step


def _data(root: Path) -> Any:
    seqs = {u: [*s, f"v-{u}", f"t-{u}"] for u, s in TRAIN.items()}
    return write_dataset(root, seqs, catalogue=sorted({i for s in seqs.values() for i in s}))


def test_rounds_print_lines_and_a_resumed_run_counts_what_it_found(
    tmp_path: Path, tiny_lm_dir: Path, tiny_st_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from profilerec.embed.st import SentenceTransformerEmbedder
    from profilerec.llm.hf import TransformersGenerator

    lm = TransformersGenerator(str(tiny_lm_dir), batch_size=4, threads=1)
    embedder = SentenceTransformerEmbedder(str(tiny_st_dir))
    ds = _data(tmp_path / "ds")
    cfg = PtEProfilesConfig(rounds=1, candidates=2, max_new_tokens=4, batch_size=3)
    total = (4 + 5) * (1 + 2)  # (users + trained items) x (rounds + candidates)
    run_pte_profiles(ds, lm, embedder, tmp_path / "whole", cfg)
    check_lines(capsys.readouterr().err, "PtE profiling", total)

    with pytest.raises(KeyboardInterrupt):
        run_pte_profiles(ds, lm, embedder, tmp_path / "cut", cfg, stop_after_batches=3)
    capsys.readouterr()
    run_pte_profiles(ds, lm, embedder, tmp_path / "cut", cfg)
    lines = check_lines(capsys.readouterr().err, "PtE profiling", total)
    assert not any(ln.startswith(("PtE profiling: 1/", "PtE profiling: 2/")) for ln in lines)


def test_backbone_training_prints_a_line_per_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bcfg = SASRecConfig(hidden=16, layers=1, heads=2, epochs=3, batch_size=16)
    config = PtEBackboneConfig(backbone="sasrec", backbone_config=bcfg)
    train_pte_backbone(_data(tmp_path / "ds"), config, progress=True)
    err = capsys.readouterr().err
    lines = check_lines(err, "PtE-sasrec epochs", 3, status=r"loss [\d.]+")
    assert len(lines) == 4  # started, then one line per epoch
