"""prepare into an existing dataset is atomic: a killed run leaves the old dataset usable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from profilerec.data.dataset import Dataset
from profilerec.data.prepare import PrepareConfig, demo_source, prepare
from profilerec.errors import UserError

SRC = str(Path(__file__).resolve().parents[2] / "src")

#: Prepares the demo with k-core 0 into OUT and SIGKILLs itself right after the first
#: parquet file of the new dataset is written: a real kill, no cleanup code runs.
KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from profilerec.data import prepare as P
original = P._write
def write_then_die(frame, path):
    original(frame, path)
    os.kill(os.getpid(), signal.SIGKILL)
P._write = write_then_die
P.prepare(P.demo_source(), Path(sys.argv[1]), P.PrepareConfig(k_core=0))
"""


def test_killed_prepare_leaves_the_old_dataset_intact(tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    prepare(demo_source(), out, PrepareConfig(k_core=5))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    env = {**os.environ, "PYTHONPATH": SRC}
    run = subprocess.run([sys.executable, "-c", KILLED_RUN, str(out)], env=env, timeout=300)
    assert run.returncode == -9  # SIGKILL: it died mid-write
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    data = Dataset.load(out)
    assert data.manifest["config"]["k_core"] == 5
    assert data.examples.height > 0 and set(data.interactions["item_id"]) <= set(data.item_ids)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "dataset"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".dataset.tmp-")
    # The next run replaces the old dataset whole and removes the dead run's folder.
    manifest = prepare(demo_source(), out, PrepareConfig(k_core=0))
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]
    assert json.loads((out / "manifest.json").read_text())["config"]["k_core"] == 0
    assert Dataset.load(out).interactions.height == manifest["counts"]["interactions"]


def test_non_dataset_folder_is_refused_before_reading(tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "todo.txt").write_text("keep me")
    with pytest.raises(UserError, match="not a profilerec dataset"):
        prepare(tmp_path / "missing.jsonl", out, PrepareConfig())
    assert (out / "todo.txt").read_text() == "keep me"
