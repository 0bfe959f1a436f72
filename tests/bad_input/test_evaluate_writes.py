"""Bad-input corpus, issue 32: ``evaluate`` writes a folder of its own, replaced whole:
metrics.json, ranks.parquet and report.html belong together after an interrupt or a full disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import profilerec.cli.evaluate as evaluate_cli
from _embedders import KeywordEmbedder
from bad_input._writes import refused, snapshot


def test_evaluate_inside_a_dataset_folder_is_refused(cli: Any, data_copy: Path) -> None:
    before = snapshot(data_copy)
    refused(
        cli("evaluate", data_copy, "--out", data_copy / "eval", "--method", "popularity"),
        "is inside the input folder",
    )
    assert snapshot(data_copy) == before


def test_evaluate_inside_another_dataset_is_refused(
    cli: Any, data_copy: Path, demo_dataset: Path
) -> None:
    before = snapshot(data_copy)
    refused(
        cli("evaluate", demo_dataset, "--out", data_copy / "eval", "--method", "popularity"),
        f"is inside the dataset folder {data_copy}",
    )
    assert snapshot(data_copy) == before


# --- evaluate's folder is replaced whole --------------------------------------------------


@pytest.fixture
def old_eval(tmp_path: Path) -> Path:
    """A previous evaluation: its three files belong together."""
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "metrics.json").write_text('{"metrics": {"old": {}}}')
    (folder / "ranks.parquet").write_bytes(b"old ranks")
    (folder / "report.html").write_text("<html>old report</html>")
    return folder


def _evaluate(monkeypatch: pytest.MonkeyPatch, cli: Any, data: Path, out: Path, *extra: str) -> Any:
    monkeypatch.setattr(evaluate_cli, "make_engine_embedder", lambda *a: KeywordEmbedder())
    return cli("evaluate", data, "--out", out, "--method", "popularity", "--no-tune", *extra)


@pytest.mark.parametrize(
    ("raised", "code", "message"),
    [
        (KeyboardInterrupt(), 130, "interrupted; finished work is kept"),
    ],
)
def test_evaluate_interrupted_between_its_files_keeps_the_old_run_whole(
    monkeypatch: pytest.MonkeyPatch,
    cli: Any,
    data_copy: Path,
    old_eval: Path,
    raised: BaseException,
    code: int,
    message: str,
) -> None:
    """SIGINT after metrics and ranks, before the report (a full disk: test_no_space.py): once new metrics
    stood beside the old report. Now the folder is the old run, whole, with no temp left."""
    before = snapshot(old_eval)

    def fail(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr("profilerec.cli.report.write_report", fail)
    result = _evaluate(monkeypatch, cli, data_copy, old_eval)
    last = result[1].splitlines()[-1]  # after any progress lines
    assert result[0] == code and last == message.format(out=old_eval), result
    assert snapshot(old_eval) == before
    assert sorted(p.name for p in old_eval.parent.iterdir()) == ["data", "eval"]


def test_evaluate_rerun_replaces_the_whole_folder(
    monkeypatch: pytest.MonkeyPatch, cli: Any, data_copy: Path, old_eval: Path
) -> None:
    """Control: an uninterrupted run replaces all three files together."""
    code, err = _evaluate(monkeypatch, cli, data_copy, old_eval)
    assert code == 0, err
    assert sorted(p.name for p in old_eval.iterdir()) == [
        "metrics.json",
        "ranks.parquet",
        "report.html",
    ]
    assert (old_eval / "report.html").read_text() != "<html>old report</html>"
    assert pl.read_parquet(old_eval / "ranks.parquet").height > 0


def test_evaluate_over_a_folder_holding_other_files_needs_overwrite(
    monkeypatch: pytest.MonkeyPatch, cli: Any, data_copy: Path, old_eval: Path
) -> None:
    (old_eval / "notes.txt").write_text("the user's own notes")
    before = snapshot(old_eval)
    refused(
        _evaluate(monkeypatch, cli, data_copy, old_eval),
        f"{old_eval} holds notes.txt, which an evaluation does not hold",
    )
    assert snapshot(old_eval) == before
    code, err = _evaluate(monkeypatch, cli, data_copy, old_eval, "--overwrite")
    assert code == 0, err
    assert not (old_eval / "notes.txt").exists() and (old_eval / "report.html").is_file()


def test_evaluate_says_how_many_profiles_are_empty(
    monkeypatch: pytest.MonkeyPatch, cli: Any, data_copy: Path
) -> None:
    """A partly empty set (select once kept "" for 110 of 253 users) is evaluated, but said."""
    from bad_input._writes import profiles_of, write_set

    frame = profiles_of(data_copy).with_row_index()
    frame = frame.with_columns(
        profile=pl.when(pl.col("index") < 5).then(pl.lit("")).otherwise(pl.col("profile"))
    ).drop("index")
    p = write_set(data_copy.parent / "p", frame)
    out = data_copy.parent / "e"
    code, err = _evaluate(monkeypatch, cli, data_copy, out, "--profiles", f"zs={p}", "--no-report")
    assert code == 0, err
    assert (
        f"note: profiles 'zs': 5 of the {frame.height} evaluated examples have an empty text" in err
    )
