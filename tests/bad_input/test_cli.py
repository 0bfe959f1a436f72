"""Bad-input corpus, command-line level: usage errors, interrupts, markup, file problems."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest

import profilerec.data.prepare as prepare_module
from bad_input._cli import assert_error, assert_usage_error, run_cli
from profilerec.cli import main


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["prepare", "--demo", "--nope"], "No such option: --nope"),
        (["prepare", "--demo", "--k-core", "abc"], "Invalid value for '--k-core'"),
        (["profile"], "Missing argument 'dataset'"),
        (["bogus"], "No such command 'bogus'"),
    ],
)
def test_usage_errors_exit_2_with_typers_message(args: list[str], fragment: str) -> None:
    assert_usage_error(run_cli(*args), fragment)


@pytest.mark.parametrize("command", ["profile", "evaluate", "qa", "quickstart"])
def test_negative_limit_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tmp_path: Path,
    command: str,
) -> None:
    """``--limit -1`` once meant "all but the last example" (``head(-1)``)."""
    args = [] if command == "quickstart" else [str(demo_dataset)]
    argv = [command, *args, "--out", str(tmp_path / "o"), "--limit", "-1"]
    assert run_main(monkeypatch, *argv) == 2
    err = capsys.readouterr().err
    assert "Invalid value for '--limit'" in err and "greater than or equal to 0" in err, err


def test_help_exits_0() -> None:
    result = run_cli("--help")
    assert result.returncode == 0 and "prepare" in result.stdout


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["profilerec", *args])
    with pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0)


def test_ctrl_c_exits_130_and_says_work_is_kept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """typer turns KeyboardInterrupt into a *returned* 130 in non-standalone mode; it was once
    ignored, so an interrupted prepare exited 0 and `&&` chains carried on."""

    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(prepare_module, "prepare", interrupted)
    assert run_main(monkeypatch, "prepare", "--demo", "--out", str(tmp_path / "o")) == 130
    assert "interrupted; finished work is kept" in capsys.readouterr().err


def test_os_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def read_only(*a: object, **k: object) -> None:
        raise OSError(30, "Read-only file system", "/mnt/ro/dataset")

    monkeypatch.setattr(prepare_module, "prepare", read_only)
    assert run_main(monkeypatch, "prepare", "--demo", "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: Read-only file system: /mnt/ro/dataset"


def test_out_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = run_cli("prepare", "--demo", "--out", tmp_path / "afile")
    assert_error(result, "afile is a file")


@pytest.mark.parametrize("name", ["a[/]b", "[red]x[/red]"])
def test_markup_in_a_path_is_shown_verbatim(tmp_path: Path, name: str) -> None:
    missing = tmp_path / name / "reviews.jsonl"
    line = assert_error(run_cli("prepare", missing, "--out", tmp_path / "o"), str(missing))
    assert "MarkupError" not in line


def test_truncated_gz_is_one_line(tmp_path: Path) -> None:
    data = gzip.compress(b'{"user_id": "u", "parent_asin": "i", "timestamp": 1}\n' * 200)
    path = tmp_path / "Cat.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    result = run_cli("prepare", path, "--out", tmp_path / "o", "--k-core", "0")
    assert_error(result, "ended early")


def test_corrupt_parquet_in_a_dataset_folder_names_the_file(
    demo_dataset: Path, tmp_path: Path
) -> None:
    import shutil

    broken = tmp_path / "dataset"
    shutil.copytree(demo_dataset, broken)
    (broken / "examples.parquet").write_bytes(b"not a parquet file")
    result = run_cli("evaluate", broken, "--out", tmp_path / "eval", "--method", "popularity")
    assert_error(result, f"{broken / 'examples.parquet'}: unreadable parquet")
