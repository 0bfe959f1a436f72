"""atomic_folder: the target is replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from profilerec.atomic import atomic_folder
from profilerec.errors import UserError


def fill(folder: Path, text: str) -> None:
    (folder / "data.txt").write_text(text)
    (folder / "manifest.json").write_text("{}")


def test_new_target_is_created(tmp_path: Path) -> None:
    with atomic_folder(tmp_path / "out", "manifest.json", "thing") as tmp:
        fill(tmp, "new")
    assert (tmp_path / "out" / "data.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp folder left


def test_existing_output_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    fill(target, "old")
    (target / "stale.txt").write_text("from the old run")
    with atomic_folder(target, "manifest.json", "thing") as tmp:
        fill(tmp, "new")
    assert sorted(p.name for p in target.iterdir()) == ["data.txt", "manifest.json"]
    assert (target / "data.txt").read_text() == "new"


def test_failure_leaves_the_old_folder_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    fill(target, "old")
    with pytest.raises(RuntimeError), atomic_folder(target, "manifest.json", "thing") as tmp:
        (tmp / "data.txt").write_text("half")
        raise RuntimeError("killed")
    assert (target / "data.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_missing_marker_replaces_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    fill(target, "old")
    with pytest.raises(FileNotFoundError), atomic_folder(target, "manifest.json", "x") as tmp:
        (tmp / "data.txt").write_text("no marker")
    assert (target / "data.txt").read_text() == "old"


def test_foreign_folder_and_file_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_text("x")
    with (
        pytest.raises(UserError, match="not a dataset"),
        atomic_folder(foreign, "m.json", "dataset"),
    ):
        pass
    assert (foreign / "cat.jpg").exists()
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    with pytest.raises(UserError, match="is a file"), atomic_folder(a_file, "m.json", "dataset"):
        pass


def test_stale_temp_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".out.tmp-999999999-abcd"  # no such pid
    stale.mkdir()
    with atomic_folder(tmp_path / "out", "manifest.json", "thing") as tmp:
        fill(tmp, "new")
    assert not stale.exists()
