"""Bad-input corpus for ``profilerec evaluate``: inputs that once gave silently wrong numbers.

Every case is refused before the embedder loads (the spec names a model that does not exist,
so reaching it would be a different error)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from bad_input._cli import assert_error, run_cli
from bad_input._inproc import run_main
from profilerec.data.dataset import Dataset

NO_MODEL = "sentence-transformers:/nonexistent/model"


def write_profiles(folder: Path, frame: pl.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / "profiles.parquet")
    return folder


def good_profiles(dataset: Path) -> pl.DataFrame:
    test = Dataset.load(dataset).split("test").sort("example_id")
    return test.select("example_id", "user_id").with_columns(
        pl.lit("likes gentle skin care").alias("profile"), pl.lit("zero_shot").alias("method")
    )


@pytest.fixture
def evaluate(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``profilerec evaluate`` through ``main`` in this process (a subprocess per case paid
    ~20 s of imports on a loaded machine); the result looks like subprocess.run's."""

    def run(dataset: Path, tmp_path: Path, *args: str | Path) -> Any:
        argv = ["evaluate", dataset, "--out", tmp_path / "eval", "--embedder", NO_MODEL, *args]
        code, err = run_main(monkeypatch, capsys, *argv)
        return SimpleNamespace(returncode=code, stderr=err)

    return run


def test_profile_set_named_like_a_baseline(
    evaluate: Any, demo_dataset: Path, tmp_path: Path
) -> None:
    p = write_profiles(tmp_path / "p", good_profiles(demo_dataset))
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"popularity={p}")
    assert_error(result, "profile set 'popularity' is named like a baseline")


def test_history_prefixed_name_clashes_with_a_baseline(
    evaluate: Any, demo_dataset: Path, tmp_path: Path
) -> None:
    p = write_profiles(tmp_path / "p", good_profiles(demo_dataset))
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"history+sasrec={p}")
    assert_error(result, "named like a baseline")


def test_same_name_twice(evaluate: Any, demo_dataset: Path, tmp_path: Path) -> None:
    a = write_profiles(tmp_path / "a", good_profiles(demo_dataset))
    b = write_profiles(tmp_path / "b", good_profiles(demo_dataset))
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"zs={a}", "--profiles", f"zs={b}")
    assert_error(result, "--profiles: the name 'zs' is given twice")


def test_duplicate_example_ids(evaluate: Any, demo_dataset: Path, tmp_path: Path) -> None:
    frame = good_profiles(demo_dataset)
    p = write_profiles(tmp_path / "p", pl.concat([frame, frame.head(1)]))
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"zs={p}")
    assert_error(result, "rows sharing an example_id")


def test_profiles_of_other_users(evaluate: Any, demo_dataset: Path, tmp_path: Path) -> None:
    frame = good_profiles(demo_dataset)
    shifted = frame.with_columns(pl.col("user_id").shift(1, fill_value="someone-else"))
    p = write_profiles(tmp_path / "p", shifted)
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"zs={p}")
    assert_error(result, "belong to another dataset or split")


def test_all_empty_profiles(evaluate: Any, demo_dataset: Path, tmp_path: Path) -> None:
    frame = good_profiles(demo_dataset).with_columns(pl.lit("  ").alias("profile"))
    p = write_profiles(tmp_path / "p", frame)
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"zs={p}")
    assert_error(result, "profiles 'zs': every profile text is empty")


def test_unknown_reference(evaluate: Any, demo_dataset: Path, tmp_path: Path) -> None:
    result = evaluate(demo_dataset, tmp_path, "--method", "popularity", "--reference", "sasrec")
    assert_error(result, "--reference 'sasrec' is not evaluated; choose from popularity")


def test_profiles_without_text_column(evaluate: Any, demo_dataset: Path, tmp_path: Path) -> None:
    p = write_profiles(tmp_path / "p", good_profiles(demo_dataset).drop("profile"))
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"zs={p}")
    assert_error(result, "lack column(s) profile")


def test_corrupt_profiles_parquet(evaluate: Any, demo_dataset: Path, tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "profiles.parquet").write_bytes(b"PAR1 truncated")
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"zs={tmp_path / 'p'}")
    assert_error(result, f"{tmp_path / 'p'}: unreadable profiles parquet")


def test_good_profiles_pass_the_checks(demo_dataset: Path, tmp_path: Path) -> None:
    """Control: valid profiles get past every check and fail only at the (missing) embedder."""
    p = write_profiles(tmp_path / "p", good_profiles(demo_dataset))
    result = run_cli(
        "evaluate",
        demo_dataset,
        "--out",
        tmp_path / "e",
        "--embedder",
        NO_MODEL,
        "--profiles",
        f"zs={p}",
    )
    assert result.returncode != 0 and "/nonexistent/model" in result.stderr


def test_null_profile_names_the_file_and_example(
    evaluate: Any, demo_dataset: Path, tmp_path: Path
) -> None:
    """A null text once failed after the embedder loaded, naming neither file nor example."""
    frame = good_profiles(demo_dataset)
    bad_id = frame["example_id"][3]
    frame = frame.with_columns(
        pl.when(pl.col("example_id") == bad_id)
        .then(None)
        .otherwise(pl.col("profile"))
        .alias("profile")
    )
    p = write_profiles(tmp_path / "p", frame)
    result = evaluate(demo_dataset, tmp_path, "--profiles", f"zs={p}")
    assert_error(
        result, f"profiles 'zs' ({p}) have 1 null profile texts (first example_id {bad_id})"
    )


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_malformed_manifest_is_refused_before_the_embedder(
    evaluate: Any, demo_dataset: Path, tmp_path: Path, text: str
) -> None:
    """It was once read only by the report, after the whole evaluation, as a traceback."""
    import shutil

    broken = tmp_path / "dataset"
    shutil.copytree(demo_dataset, broken)
    (broken / "manifest.json").write_text(text)
    result = evaluate(broken, tmp_path, "--method", "popularity")
    assert_error(result, f"{broken / 'manifest.json'}: malformed manifest")
