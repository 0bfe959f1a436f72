"""``profile --generator ctranslate2:...`` killed after two batches resumes to the same profiles.

Sampling, because that is where CTranslate2 needs care: its random generator is seeded once
per engine thread, so without a fresh engine per batch a resumed run (whose first batch is the
uninterrupted run's third) would sample different texts.
"""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("ctranslate2")


def _profile(dataset: Path, model: Path, out: Path) -> list[str]:
    return [
        "profile",
        str(dataset),
        "--out",
        str(out),
        "--generator",
        f"ctranslate2:{model}@float32",
        "--limit",
        "12",
        "--batch-size",
        "4",
        "--max-new-tokens",
        "6",
        "--temperature",
        "1.0",
        "--seed",
        "7",
        "--history-items",
        "3",
    ]


def test_killed_ctranslate2_profile_run_resumes(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import profilerec.profile.stage as stage
    from profilerec.cli import app

    monkeypatch.setenv("PROFILEREC_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    whole = runner.invoke(app, _profile(demo_dataset, tiny_lm_dir, tmp_path / "whole"))
    assert whole.exit_code == 0, whole.output + repr(whole.exception)

    cut = tmp_path / "cut"
    original = stage.run_profile
    with monkeypatch.context() as patch:  # the run is killed before its third batch
        patch.setattr(stage, "run_profile", functools.partial(original, stop_after_batches=2))
        killed = runner.invoke(app, _profile(demo_dataset, tiny_lm_dir, cut))
    assert killed.exit_code == 130  # "interrupted; finished work is kept"
    parts = sorted((cut / stage.PARTS_DIR).glob("part-*.parquet"))
    assert len(parts) == 2 and not (cut / "profiles.parquet").exists()
    written = {p: p.stat().st_mtime_ns for p in parts}

    resumed = runner.invoke(app, _profile(demo_dataset, tiny_lm_dir, cut))
    assert resumed.exit_code == 0, resumed.output + repr(resumed.exception)
    assert {p: p.stat().st_mtime_ns for p in parts} == written  # finished batches kept

    a = pl.read_parquet(tmp_path / "whole" / "profiles.parquet")
    b = pl.read_parquet(cut / "profiles.parquet")
    assert a.height == 12 and a.equals(b)
    assert a["model_id"][0].startswith("ctranslate2:") and a["model_id"][0].endswith("[float32]")
    assert a["profile"].n_unique() > 1
