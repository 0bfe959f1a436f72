"""check_rerun: a profile rerun resumes or extends its set, or is refused (issue 32)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from profilerec.errors import UserError
from profilerec.profile.guard import check_rerun

RECORD = {"method": "zero_shot", "limit": 3, "generation": {"temperature": 0.0, "top_p": 1.0}}


def _set(folder: Path, ids: list[str], record: dict[str, object] | None = None) -> Path:
    folder.mkdir()
    pl.DataFrame({"example_id": ids, "profile": ["p"] * len(ids)}).write_parquet(
        folder / "profiles.parquet"
    )
    (folder / "profile_config.json").write_text(json.dumps(record or RECORD))
    return folder


def test_resume_and_extension_pass(tmp_path: Path) -> None:
    p = _set(tmp_path / "p", ["a", "b"])
    check_rerun(p, pl.Series(["a", "b"]), RECORD, overwrite=False)
    check_rerun(p, pl.Series(["a", "b", "c"]), {**RECORD, "limit": 0}, overwrite=False)
    check_rerun(tmp_path / "new", pl.Series(["a"]), RECORD, overwrite=False)


def test_dropping_rows_is_refused_unless_overwrite(tmp_path: Path) -> None:
    p = _set(tmp_path / "p", ["a", "b", "c"])
    with pytest.raises(UserError, match="holds 3 profiles, 1 of them of examples this run"):
        check_rerun(p, pl.Series(["a", "b"]), RECORD, overwrite=False)
    check_rerun(p, pl.Series(["a"]), RECORD, overwrite=True)


def test_changed_settings_are_refused_but_new_options_are_not_changes(tmp_path: Path) -> None:
    p = _set(tmp_path / "p", ["a"])
    hotter = {**RECORD, "generation": {"temperature": 0.8, "top_p": 1.0}}
    with pytest.raises(UserError, match=r"other settings \(generation\)"):
        check_rerun(p, pl.Series(["a"]), hotter, overwrite=False)
    newer = {**RECORD, "sentence_end": True, "generation": {**RECORD["generation"], "n": 0}}  # type: ignore[dict-item]
    check_rerun(p, pl.Series(["a"]), newer, overwrite=False)


def test_a_set_not_written_by_profile_is_refused(tmp_path: Path) -> None:
    p = _set(tmp_path / "p", ["a"])
    (p / "profile_config.json").unlink()
    with pytest.raises(UserError, match=r"profile_config\.json missing: not written by `profile`"):
        check_rerun(p, pl.Series(["a"]), RECORD, overwrite=False)
