"""Bad-input corpus, issue 32: ``qa`` writes one folder, replaced whole: metrics.json,
answers.parquet and report.html belong together after an interrupt, and a folder it did not
write is replaced only with ``--overwrite`` (refused before the reader loads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bad_input._inproc import no_model
from bad_input._writes import previous_run, refused, snapshot
from qa.conftest import small_dataset


@pytest.fixture
def old_qa(tmp_path: Path) -> Path:
    """A previous QA run: its three files belong together."""
    return previous_run(
        tmp_path / "qa", '{"metrics": {"old": {}}}', "answers.parquet", "report.html"
    )


def _qa(cli: Any, tmp_path: Path, tiny_lm_dir: Path, out: Path, *extra: str) -> Any:
    data = small_dataset(tmp_path / "data")
    reader = f"transformers:{tiny_lm_dir}"
    args = ["--out", out, "--reader", reader, "--limit", "2", "--dtype", "float32", "--task"]
    return cli("qa", data.root, *args, "rating", *extra)


@pytest.mark.parametrize(
    ("raised", "code", "last"),
    [
        (KeyboardInterrupt(), 130, "interrupted; finished work is kept"),
        (OSError(28, "No space left on device"), 2, "error: no space left on device: {out}"),
    ],
)
def test_qa_stopped_while_writing_its_report_keeps_the_old_run_whole(
    monkeypatch: pytest.MonkeyPatch,
    cli: Any,
    tmp_path: Path,
    tiny_lm_dir: Path,
    old_qa: Path,
    raised: BaseException,
    code: int,
    last: str,
) -> None:
    """The report was written after the folder's swap: a SIGINT or a full disk then left new
    metrics beside the old report. Now it is written inside the atomic folder: the old run
    stays, whole, and the message names the cause."""
    monkeypatch.setenv("PROFILEREC_CACHE", str(tmp_path / "cache"))
    before = snapshot(old_qa)

    def stop(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr("profilerec.report.qa.write_qa_report", stop)
    result = _qa(cli, tmp_path, tiny_lm_dir, old_qa)
    assert result[0] == code and result[1].splitlines()[-1] == last.format(out=old_qa), result
    assert snapshot(old_qa) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "data", "qa"]  # no temp left


def test_qa_rerun_replaces_the_whole_folder(
    monkeypatch: pytest.MonkeyPatch, cli: Any, tmp_path: Path, tiny_lm_dir: Path, old_qa: Path
) -> None:
    """Control: an uninterrupted run replaces all three files together."""
    monkeypatch.setenv("PROFILEREC_CACHE", str(tmp_path / "cache"))
    code, err = _qa(cli, tmp_path, tiny_lm_dir, old_qa)
    assert code == 0, err
    assert sorted(p.name for p in old_qa.iterdir()) == [
        "answers.parquet",
        "metrics.json",
        "report.html",
    ]
    assert (old_qa / "report.html").read_text() != "old report.html"
    assert '"old"' not in (old_qa / "metrics.json").read_text()


def test_qa_over_a_folder_holding_other_files_needs_overwrite(
    monkeypatch: pytest.MonkeyPatch, cli: Any, tmp_path: Path, tiny_lm_dir: Path, old_qa: Path
) -> None:
    monkeypatch.setenv("PROFILEREC_CACHE", str(tmp_path / "cache"))
    (old_qa / "notes.txt").write_text("the user's own notes")
    before = snapshot(old_qa)
    with monkeypatch.context() as patched:  # the refusal comes before the reader loads
        patched.setattr("profilerec.cli.loaders.make_generator", no_model)
        refused(
            _qa(cli, tmp_path, tiny_lm_dir, old_qa),
            f"{old_qa} holds notes.txt, which a qa output does not hold; refusing to replace "
            "it (that would delete them): move them out or choose another --out "
            "(or pass --overwrite)",
        )
    assert snapshot(old_qa) == before
    code, err = _qa(cli, tmp_path, tiny_lm_dir, old_qa, "--overwrite")
    assert code == 0, err
    assert not (old_qa / "notes.txt").exists() and (old_qa / "report.html").is_file()
