"""Bad-input corpus, issue 32: evaluate's profile checks shared by ``serve`` and ``qa``;
``qa --negatives`` recorded as used; a busy port reported before any model loads."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import profilerec.cli.loaders as loaders
from bad_input._inproc import no_model, run_main
from bad_input._writes import profiles_of, refused, write_set


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    pytest.importorskip("uvicorn")
    monkeypatch.setattr(loaders, "make_embedder", no_model)
    monkeypatch.setattr(loaders, "make_generator", no_model)
    monkeypatch.setattr("uvicorn.run", no_model)
    return lambda *args: run_main(monkeypatch, capsys, "serve", *args)


def _variants(dataset: Path) -> dict[str, pl.DataFrame]:
    good = profiles_of(dataset)
    return {
        "duplicate": pl.concat([good, good.head(1)]),
        "empty": good.with_columns(
            profile=pl.when(pl.int_range(pl.len()) < 2)
            .then(pl.lit(" "))
            .otherwise(pl.col("profile"))
        ),
        "other_users": good.with_columns(pl.col("user_id").shift(1, fill_value="someone-else")),
    }


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("duplicate", "rows sharing an example_id"),
        ("empty", "2 of the 253 served users have an empty profile text"),
        ("other_users", "belong to another dataset or split"),
    ],
)
def test_serve_refuses_profiles_evaluate_refuses(
    serve: Any, demo_dataset: Path, tmp_path: Path, case: str, message: str
) -> None:
    """Duplicate rows and empty texts were served (last row wins); another dataset's set
    was a uvicorn startup traceback."""
    p = write_set(tmp_path / "p", _variants(demo_dataset)[case])
    refused(serve(demo_dataset, "--no-generator", "--profiles", f"zs={p}"), message)


def test_serve_reports_a_busy_port_before_loading(serve: Any, demo_dataset: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused(
            serve(demo_dataset, "--no-generator", "--port", str(port)),
            f"--port {port}: cannot listen on 127.0.0.1",
        )


def test_serve_control_good_profiles_reach_the_server(
    serve: Any, demo_dataset: Path, tmp_path: Path
) -> None:
    """Control: a valid set passes every check and reaches uvicorn (patched to refuse)."""
    p = write_set(tmp_path / "p", profiles_of(demo_dataset))
    with pytest.raises(AssertionError, match="must not load a model"):
        serve(demo_dataset, "--no-generator", "--profiles", f"zs={p}", "--port", "0")


def test_qa_refuses_other_users_profiles(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(loaders, "make_generator", no_model)
    p = write_set(tmp_path / "p", _variants(demo_dataset)["other_users"])
    args = ["qa", demo_dataset, "--out", tmp_path / "qa", "--profiles", f"zs={p}"]
    refused(run_main(monkeypatch, capsys, *args), "profiles 'zs' belong to another dataset")
    assert not (tmp_path / "qa").exists()


def test_qa_negatives_are_capped_and_recorded_as_used(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_lm_dir: Path,
    tmp_path: Path,
) -> None:
    """--negatives 1000000 once used the whole catalogue while metrics.json said 1000000."""
    from qa.conftest import small_dataset

    monkeypatch.setenv("PROFILEREC_CACHE", str(tmp_path / "cache"))
    data = small_dataset(tmp_path / "data")
    out = tmp_path / "qa"
    args = ["qa", data.root, "--out", out, "--reader", f"transformers:{tiny_lm_dir}"]
    args += ["--task", "choice", "--limit", "2", "--negatives", "1000000", "--dtype", "float32"]
    code, err = run_main(monkeypatch, capsys, *args)
    assert code == 0, err
    used = json.loads((out / "metrics.json").read_text())["config"]["n_negatives"]
    assert 1 <= used < len(data.item_ids)
    assert f"note: --negatives 1000000 capped at {used}" in err
    answers = pl.read_parquet(out / "answers.parquet")
    assert answers.height > 0


def test_evaluate_refuses_a_folder_mixing_two_datasets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_copy: Path
) -> None:
    """items.parquet of another dataset beside these examples: once a KeyError traceback."""
    import profilerec.cli.evaluate as evaluate_cli

    monkeypatch.setattr(evaluate_cli, "make_engine_embedder", no_model)
    items = pl.read_parquet(data_copy / "items.parquet")
    items.tail(items.height // 2).write_parquet(data_copy / "items.parquet")
    args = ["evaluate", data_copy, "--out", data_copy.parent / "e", "--method", "popularity"]
    refused(
        run_main(monkeypatch, capsys, *args),
        "items named by examples.parquet are not in items.parquet",
    )
    assert not (data_copy.parent / "e").exists()
