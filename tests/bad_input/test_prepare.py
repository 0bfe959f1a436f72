"""Bad-input corpus for ``profilerec prepare``: exit code and message, as a user sees them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
T0 = 1_600_000_000_000
DAY = 86_400_000


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "profilerec.cli", "prepare", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def reviews(folder: Path, t0: int = T0, step: int = DAY, last: int | None = None) -> Path:
    rows = [(u, f"i{k}", t0 + k * step) for u in ("u1", "u2") for k in range(4)]
    if last is not None:
        rows[-1] = ("u2", "i3", last)
    path = folder / "Cat.jsonl"
    path.write_text(
        "".join(
            json.dumps({"user_id": u, "parent_asin": i, "timestamp": t, "rating": 5.0}) + "\n"
            for u, i, t in rows
        )
    )
    (folder / "meta_Cat.jsonl").write_text('{"parent_asin": "i0", "title": "x"}\n')
    return path


def assert_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr


def test_negative_k_core(tmp_path: Path) -> None:
    result = run_cli(reviews(tmp_path), "--out", tmp_path / "o", "--k-core", "-3")
    assert_error(result, "--k-core must be >= 0 (0 disables it), not -3")


def test_future_timestamp(tmp_path: Path) -> None:
    future = int(time.time() * 1000) + 400 * DAY
    result = run_cli(reviews(tmp_path, last=future), "--out", tmp_path / "o", "--k-core", "0")
    assert_error(result, "have timestamps in the future")
    assert not (tmp_path / "o").exists()


def test_no_examples(tmp_path: Path) -> None:
    args = ["--out", tmp_path / "o", "--k-core", "0", "--min-history", "10"]
    assert_error(run_cli(reviews(tmp_path), *args), "no examples: no user has --min-history 10")


def test_out_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert_error(run_cli(reviews(tmp_path), "--out", target), "is a file, not a folder")


def test_out_is_a_foreign_folder(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.tex").write_text("x")
    result = run_cli(reviews(tmp_path), "--out", target)
    assert_error(result, "is a non-empty folder that is not a profilerec dataset")
    assert (target / "thesis.tex").exists()


@pytest.mark.parametrize(
    ("flags", "warning"),
    [
        (["--k-core", "0"], "no item metadata"),  # the meta file is removed for this case
        (
            ["--k-core", "0", "--split", "user_disjoint", "--valid-users", "0"],
            "valid split is empty",
        ),
    ],
)
def test_warnings_reach_the_manifest_and_exit_zero(
    tmp_path: Path, flags: list[str], warning: str
) -> None:
    path = reviews(tmp_path)
    if warning == "no item metadata":
        (tmp_path / "meta_Cat.jsonl").unlink()
    result = run_cli(path, "--out", tmp_path / "o", *flags)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert any(warning in w for w in manifest["warnings"])
    assert "warning: " in result.stderr and warning in result.stderr


def test_seconds_for_ms(tmp_path: Path) -> None:
    path = reviews(tmp_path, t0=1_600_000_000, step=86_400)
    result = run_cli(path, "--out", tmp_path / "o", "--k-core", "0")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert any("probably holds seconds" in w for w in manifest["warnings"])
    assert "warning: every timestamp is before 1973-03-03" in result.stderr


def test_unknown_engine(tmp_path: Path) -> None:
    result = run_cli(reviews(tmp_path), "--out", tmp_path / "o", "--engine", "gpu")
    assert_error(result, "--engine must be one of auto, memory, streaming, not 'gpu'")


def test_bad_memory_limit(tmp_path: Path) -> None:
    args = ["--out", tmp_path / "o", "--engine", "streaming", "--memory-limit", "lots"]
    assert_error(run_cli(reviews(tmp_path), *args), "--memory-limit 'lots' is not a size like 4GB")
    assert not (tmp_path / "o").exists()


def test_streaming_engine_is_recorded(tmp_path: Path) -> None:
    args = ["--out", tmp_path / "o", "--k-core", "0", "--engine", "streaming"]
    result = run_cli(reviews(tmp_path), *args, "--memory-limit", "500MB")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["engine"] == "streaming" and manifest["config"]["memory_limit"] == "500MB"
