"""``report`` on a qa folder renders the QA section; lower MAE counts as better."""

from __future__ import annotations

import json
from pathlib import Path

from profilerec.report import build_from_dirs
from profilerec.report.qa import comparison_rows, task_tables

RESULT = {
    "kind": "qa",
    "split": "test",
    "n_examples": 3,
    "reader": "tiny",
    "reference": "history",
    "metrics": {
        "rating": {
            "history": {"mae": 1.5, "accuracy": 0.2},
            "user_mean": {"mae": 0.9, "accuracy": 0.4},
        },
        "choice": {"history": {"accuracy": 0.25}, "p<x>": {"accuracy": 0.5}},
    },
    "ci": {
        "rating": {
            "history": {"mae": [1.0, 2.0], "accuracy": [0.0, 0.5]},
            "user_mean": {"mae": [0.5, 1.3], "accuracy": [0.1, 0.7]},
        },
        "choice": {"history": {"accuracy": [0.0, 0.6]}, "p<x>": {"accuracy": [0.2, 0.8]}},
    },
    "comparisons": [
        {
            "task": "rating",
            "context": "user_mean",
            "reference": "history",
            "metric": "mae",
            "mean_diff": -0.6,
            "ci": [-1.0, -0.2],
            "p_value": 0.01,
            "detectable": 0.4123,
        },
        {
            "task": "choice",
            "context": "p<x>",
            "reference": "history",
            "metric": "accuracy",
            "mean_diff": 0.25,
            "ci": [-0.1, 0.6],
            "p_value": 0.3,
        },
    ],
}


def test_tables_mark_the_best_and_lower_error_is_better() -> None:
    rating = task_tables(RESULT)[0]
    assert rating.metrics == ["MAE", "accuracy"]
    assert rating.rows[1] == (
        "user_mean",
        [("0.900 [0.500, 1.300]", True), ("0.400 [0.100, 0.700]", True)],
    )
    verdicts = [r["verdict"] for r in comparison_rows(RESULT)]
    assert verdicts == ["better", ""]
    # the power column; a comparison written before it existed shows it empty
    assert [r["detectable"] for r in comparison_rows(RESULT)] == ["±0.4123", ""]


def test_report_command_path_renders_a_qa_folder(tmp_path: Path, demo_dataset: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps(RESULT))
    html = build_from_dirs(tmp_path, demo_dataset).read_text()
    assert 'id="qa-rating"' in html and 'id="qa-choice"' in html
    assert "p&lt;x&gt;" in html and "<x>" not in html  # profile-set names are escaped
    assert 'class="better">-0.6000' in html
    assert "<td>±0.4123</td>" in html and "users resampled" not in html
