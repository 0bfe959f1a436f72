"""Bad-input corpus, issue 32: ``profile`` writes only a folder of its own, and a rerun over
its own set resumes or is refused (``profilerec/outputs.py``, ``profile/guard.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bad_input._writes import Fixed, refused, snapshot
from profilerec.data.dataset import Dataset


def test_profile_inside_a_dataset_folder_is_refused(cli: Any, data_copy: Path) -> None:
    before = snapshot(data_copy)
    refused(
        cli("profile", data_copy, "--out", data_copy / "profiles"),
        f"--out {data_copy / 'profiles'} is inside the input folder {data_copy}",
    )
    assert snapshot(data_copy) == before


def test_writing_into_an_evaluation_folder_is_refused(cli: Any, data_copy: Path) -> None:
    evaluation = data_copy.parent / "eval"
    evaluation.mkdir()
    (evaluation / "metrics.json").write_text("{}")
    (evaluation / "ranks.parquet").write_bytes(b"old ranks")
    before = snapshot(evaluation)
    refused(
        cli("profile", data_copy, "--out", evaluation / "zs"),
        f"is inside the evaluation folder {evaluation}",
    )
    refused(
        cli("profile", data_copy, "--out", evaluation),
        f"--out {evaluation} is another stage's folder (evaluation)",
    )
    assert snapshot(evaluation) == before


def test_profile_limit_into_an_existing_set_is_refused(cli: Any, data_copy: Path) -> None:
    """``profile --out P --limit 3`` once replaced a full set with three rows."""
    from profilerec.profile.stage import ProfileConfig, run_profile

    p = data_copy.parent / "p"
    ds = Dataset.load(data_copy)
    run_profile(ds, Fixed(), p, ProfileConfig(limit=5), progress=False)
    before = snapshot(p)
    refused(
        cli("profile", data_copy, "--out", p, "--limit", "3"),
        f"{p} holds 5 profiles, 2 of them of examples this run would drop",
    )
    refused(
        cli("profile", data_copy, "--out", p, "--limit", "5", "--max-new-tokens", "20"),
        f"{p} holds profiles written with other settings",
    )
    assert snapshot(p) == before


def test_profile_rerun_extends_and_resumes(data_copy: Path) -> None:
    """Control: a larger --limit extends the set; the same run resumes it; a model change
    is refused by the library too, unless overwrite."""
    from profilerec.errors import UserError
    from profilerec.profile.stage import ProfileConfig, run_profile

    p = data_copy.parent / "p"
    ds = Dataset.load(data_copy)
    run_profile(ds, Fixed(), p, ProfileConfig(limit=3), progress=False)
    run_profile(ds, Fixed(), p, ProfileConfig(limit=5), progress=False)
    assert pl.read_parquet(p / "profiles.parquet").height == 5
    with pytest.raises(UserError, match="other settings \\(model_id\\)"):
        run_profile(ds, Fixed("other"), p, ProfileConfig(limit=5), progress=False)
    run_profile(ds, Fixed("other"), p, ProfileConfig(limit=2), progress=False, overwrite=True)
    assert pl.read_parquet(p / "profiles.parquet")["profile"].to_list() == ["other"] * 2


def test_duplicate_split_is_profiled_once(data_copy: Path) -> None:
    from profilerec.profile.stage import ProfileConfig, run_profile

    ds = Dataset.load(data_copy)
    p = data_copy.parent / "p"
    run_profile(ds, Fixed(), p, ProfileConfig(splits=("test", "test"), limit=4), progress=False)
    frame = pl.read_parquet(p / "profiles.parquet")
    assert frame.height == 4 and frame["example_id"].n_unique() == 4
