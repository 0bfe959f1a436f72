"""Bad-input corpus, issue 32: the write rules (``profilerec/outputs.py``, ``atomic.py``).

Nothing writes inside another stage's folder, nothing replaces a folder it did not write,
a rerun resumes or refuses, and evaluate's folder is replaced whole. Every case asserts the
exit code, the one-line message, and that the earlier outputs are byte-identical afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from bad_input._writes import profiles_of, refused, snapshot, write_set
from bad_input.test_prepare import reviews


def test_prepare_rerun_over_a_folder_holding_other_output_is_refused(
    cli: Any, tmp_path: Path
) -> None:
    source = reviews(tmp_path)
    data = tmp_path / "data"
    assert cli("prepare", source, "--out", data, "--k-core", "0")[0] == 0
    # written before the write rules existed (or by hand): another stage's output inside
    write_set(data / "profiles", pl.DataFrame({"example_id": ["x"], "profile": ["p"]}))
    (data / "eval").mkdir()
    (data / "eval" / "metrics.json").write_text('{"metrics": {}}')
    before = snapshot(data)
    refused(
        cli("prepare", source, "--out", data, "--k-core", "0"),
        f"{data} holds eval, profiles, which a profilerec dataset does not hold",
    )
    assert snapshot(data) == before
    # the refusal names the way out; --overwrite takes it, and only the dataset remains
    refused(cli("prepare", source, "--out", data, "--k-core", "0"), "or pass --overwrite")
    assert cli("prepare", source, "--out", data, "--k-core", "0", "--overwrite")[0] == 0
    assert sorted(p.name for p in data.iterdir()) == [
        "examples.parquet", "interactions.parquet", "items.parquet", "manifest.json",
    ]  # fmt: skip


def test_prepare_over_a_folder_it_did_not_write_needs_overwrite(cli: Any, tmp_path: Path) -> None:
    source = reviews(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("x")
    (mine / "notes").mkdir()
    (mine / "notes" / "a.md").write_text("y")
    before = snapshot(mine)
    refused(
        cli("prepare", source, "--out", mine, "--k-core", "0"),
        f"{mine} is a non-empty folder that is not a profilerec dataset (no manifest.json); "
        "refusing to replace it: choose another --out or delete it (or pass --overwrite)",
    )
    assert snapshot(mine) == before
    assert cli("prepare", source, "--out", mine, "--k-core", "0", "--overwrite")[0] == 0
    assert (mine / "manifest.json").is_file() and not (mine / "thesis.tex").exists()


def test_prepare_rerun_over_its_own_output_replaces_it(cli: Any, tmp_path: Path) -> None:
    """Control: the rule refuses only foreign entries, a plain rerun still works."""
    source = reviews(tmp_path)
    data = tmp_path / "data"
    assert cli("prepare", source, "--out", data, "--k-core", "0")[0] == 0
    assert cli("prepare", source, "--out", data, "--k-core", "0")[0] == 0


def test_select_into_one_of_its_candidates_is_refused(cli: Any, data_copy: Path) -> None:
    a = write_set(data_copy.parent / "a", profiles_of(data_copy))
    b = write_set(data_copy.parent / "b", profiles_of(data_copy))
    before = snapshot(a)
    refused(
        cli("select", data_copy, "--candidates", a, "--candidates", b, "--out", a),
        f"--out {a} is inside the input folder {a}",
    )
    assert snapshot(a) == before


def test_select_over_a_profile_run_it_did_not_write_is_refused(cli: Any, data_copy: Path) -> None:
    a = write_set(data_copy.parent / "a", profiles_of(data_copy))
    b = write_set(data_copy.parent / "b", profiles_of(data_copy))
    other = write_set(data_copy.parent / "other", profiles_of(data_copy))
    (other / "profile_config.json").write_text("{}")
    before = snapshot(other)
    refused(
        cli("select", data_copy, "--candidates", a, "--candidates", b, "--out", other),
        "is a non-empty folder that is not a selection (no select_config.json)",
    )
    assert snapshot(other) == before
    # asked to (select --overwrite), the same folder passes the check run before any model
    from profilerec.atomic import check_target
    from profilerec.profile.select import CONFIG_FILE, OWNED

    check_target(other, CONFIG_FILE, "selection", OWNED, True)
