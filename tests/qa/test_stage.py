"""The qa stage end to end on a tiny LM: files, CIs, paired tests, cache and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.qa.config import QAConfig
from profilerec.qa.reader import check_reader_spec
from profilerec.qa.stage import ANSWERS_FILE, METRICS_FILE, run_qa


def profiles_for(ds: Dataset, split: str = "test") -> pl.DataFrame:
    examples = ds.split(split)
    return examples.select("example_id", "user_id").with_columns(
        pl.format("likes item {}", "user_id").alias("profile")
    )


def test_all_tasks_write_metrics_answers_and_rerun_from_cache(
    dataset: Dataset, reader: Any, tmp_path: Path
) -> None:
    config = QAConfig(tasks=("rating", "choice", "review"), bootstrap=50, review_tokens=4)
    sets = {"zero_shot": profiles_for(dataset)}
    out = tmp_path / "qa"
    result = run_qa(dataset, reader, out, config, sets, progress=False)
    on_disk = json.loads((out / METRICS_FILE).read_text())
    assert on_disk["metrics"] == result["metrics"]
    contexts = ["none", "history", "zero_shot"]
    assert list(result["metrics"]["rating"]) == [*contexts, "user_mean", "item_mean", "global_mean"]
    assert list(result["metrics"]["choice"]) == [*contexts, "popularity"]
    assert list(result["metrics"]["review"]) == contexts
    for task, by_name in result["metrics"].items():
        for name, values in by_name.items():
            for metric, value in values.items():
                low, high = result["ci"][task][name][metric]
                assert low <= value <= high, (task, name, metric)
    tested = {(c["task"], c["context"], c["metric"]) for c in result["comparisons"]}
    assert ("rating", "zero_shot", "mse") in tested and ("choice", "none", "accuracy") in tested
    assert ("rating", "user_mean", "mae") in tested
    against = {
        (c["context"], c["reference"]) for c in result["comparisons"] if c["metric"] == "mae"
    }
    assert ("zero_shot", "item_mean") in against and ("none", "user_mean") in against
    assert ("user_mean", "item_mean") not in against  # trivial vs trivial is not asked
    assert ("rating", "zero_shot", "mse") in tested and ("choice", "history", "accuracy") in tested
    vs_pop = {c["context"] for c in result["comparisons"] if c["reference"] == "popularity"}
    assert vs_pop == set(contexts)
    assert result["resampled"] == "examples"  # one test example per user
    assert all(c["detectable"] >= 0 for c in result["comparisons"])
    answers = pl.read_parquet(out / ANSWERS_FILE)
    n = result["n_examples"]
    assert n == 4
    counts = dict(answers.group_by("task").len().iter_rows())
    assert counts == {"rating": 6 * n, "choice": 4 * n, "review": 3 * n}
    mae = answers.filter((pl.col("task") == "rating") & (pl.col("context") == "history"))
    assert mae["abs_err"].mean() == pytest.approx(result["metrics"]["rating"]["history"]["mae"])
    misses = reader.cache.misses
    assert misses == n * 3 * 3  # one per (example, context) and task
    again = run_qa(dataset, reader, out, config, sets, progress=False)
    assert reader.cache.misses == misses  # the re-run asked the model nothing
    assert again["metrics"] == result["metrics"]


def test_limit_takes_the_first_examples(dataset: Dataset, reader: Any, tmp_path: Path) -> None:
    config = QAConfig(tasks=("rating",), limit=2, bootstrap=20)
    result = run_qa(dataset, reader, tmp_path / "qa", config, progress=False)
    answers = pl.read_parquet(tmp_path / "qa" / ANSWERS_FILE)
    assert result["n_examples"] == 2
    assert sorted(answers["example_id"].unique()) == sorted(
        dataset.split("test").sort("example_id")["example_id"].head(2)
    )


def test_refusals_come_before_any_forward_pass(
    dataset: Dataset, reader: Any, tmp_path: Path
) -> None:
    with pytest.raises(UserError, match="reserved"):
        run_qa(dataset, reader, tmp_path / "a", QAConfig(), {"history": profiles_for(dataset)})
    with pytest.raises(UserError, match="lack"):
        run_qa(dataset, reader, tmp_path / "b", QAConfig(), {"v": profiles_for(dataset, "valid")})
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="refusing to replace"):
        run_qa(dataset, reader, busy, QAConfig(), progress=False)
    with pytest.raises(UserError, match="unknown task"):
        QAConfig(tasks=("rank",))
    with pytest.raises(UserError, match="log-probabilities"):
        check_reader_spec("openai:m@http://127.0.0.1:9/v1", ("review", "rating"))
    check_reader_spec("openai:m@http://127.0.0.1:9/v1", ("review",))
    assert reader.cache.misses == 0


def test_several_examples_per_user_resample_users() -> None:
    import numpy as np

    from profilerec.qa.stage import summarise

    rng = np.random.default_rng(0)
    scores = np.repeat(rng.normal(size=30), 8) + 0.05 * rng.normal(size=240)
    per = {"review": {"history": {"rouge_l": np.zeros(240)}, "x": {"rouge_l": scores}}}
    config = QAConfig(tasks=("review",), bootstrap=300, reference="history")
    flat = summarise(per, config)
    by_user = summarise(per, config, {"review": np.repeat(np.arange(30), 8)})
    width = lambda r: np.diff(r["ci"]["review"]["x"]["rouge_l"])[0]  # noqa: E731
    assert width(by_user) > 2 * width(flat)
    assert by_user["comparisons"][0]["detectable"] > 2 * flat["comparisons"][0]["detectable"]
