"""The tuned-embedder stage prints plain progress lines when stderr is not a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from _datasets import write_dataset
from _progress import check_lines
from profilerec.methods.embedder import EmbedderTuneConfig, training_pairs, tune_embedder
from profilerec.progress import INTERVAL_ENV


def test_each_epoch_prints_lines(
    tiny_st_dir: Path,
    tmp_path: Path,
    one_torch_thread: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(INTERVAL_ENV, "0")  # a line on every batch
    seqs = {f"u{n}": [f"i{(n * 3 + j) % 9}" for j in range(6)] for n in range(6)}
    ds = write_dataset(tmp_path / "ds", seqs, catalogue=[f"i{j}" for j in range(9)])
    cfg = EmbedderTuneConfig(
        embedder=f"sentence-transformers:{tiny_st_dir}",
        epochs=2,
        batch_size=4,
        max_seq_length=32,
        valid_examples=4,
    )
    pairs = len(training_pairs(ds, cfg.item_text_budget)[0])
    steps = sum(pairs - s >= 2 for s in range(0, pairs, 4))
    assert steps >= 2
    tune_embedder(ds, tmp_path / "emb", cfg, progress=True)
    err = capsys.readouterr().err
    for epoch in (1, 2):
        assert len(check_lines(err, f"epoch {epoch}/2", steps)) == steps + 1
