"""``build_from_dirs``: finding a run's files on disk, naming profile sets, reading logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from profilerec.errors import DataError, UserError
from profilerec.report import build_from_dirs, load_train_log
from profilerec.report.build import find_profiles, find_train_logs

if TYPE_CHECKING:
    from tests.report.conftest import Inputs


def write_run(run: Path, inputs: Inputs) -> None:
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps(inputs.metrics))
    inputs.ranks.write_parquet(run / "ranks.parquet")
    # Named by its method column, which evaluate used ("zero_shot" is a metrics row).
    (run / "profiles_zs").mkdir()
    inputs.profiles["zero_shot"].write_parquet(run / "profiles_zs" / "profiles.parquet")
    # "blue" was not evaluated: named by its method column all the same.
    (run / "blue").mkdir()
    inputs.profiles["blue"].write_parquet(run / "blue" / "profiles.parquet")
    lines = [{"step": 1, "reward": 0.2}, {"step": 2, "reward": 0.3, "kl": 0.01}]
    (run / "blue" / "train_log.jsonl").write_text("\n".join(map(json.dumps, lines)) + "\n\n")


def test_build_from_dirs(inputs: Inputs, tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_run(run, inputs)
    assert sorted(find_profiles(run, set(inputs.metrics["metrics"]))) == ["blue", "zero_shot"]
    assert find_train_logs(run) == {
        "blue": [{"step": 1, "reward": 0.2}, {"step": 2, "reward": 0.3, "kl": 0.01}]
    }
    out = build_from_dirs(run, inputs.dataset.root, n_users=1, date="2025-01-31")
    assert out == run / "report.html"
    html = out.read_text(encoding="utf-8")
    assert "blue: 2 logged steps" in html
    assert '<div class="pname">zero_shot</div>' in html and '<div class="pname">blue</div>' in html


def test_profile_set_named_by_folder_when_method_is_not_evaluated(
    inputs: Inputs, tmp_path: Path
) -> None:
    for folder in ("history_text", "more", "other"):
        (tmp_path / folder).mkdir()
        inputs.profiles["blue"].write_parquet(tmp_path / folder / "profiles.parquet")
    found = find_profiles(tmp_path, {"history_text"})
    # In the first folder the folder name is an evaluated method and the method column
    # ("blue") is not; the next two are both "blue", the second made distinct by its folder.
    assert list(found) == ["history_text", "blue", "blue (other)"]


def test_train_log_formats(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text("step,reward,kl\n1,0.5,0.01\n2,0.75,0.02\n")
    assert load_train_log(tmp_path / "log.csv") == [
        {"step": 1, "reward": 0.5, "kl": 0.01},
        {"step": 2, "reward": 0.75, "kl": 0.02},
    ]
    (tmp_path / "log.json").write_text('[{"step": 1, "reward": 0.5}]')
    assert load_train_log(tmp_path / "log.json") == [{"step": 1, "reward": 0.5}]
    (tmp_path / "train_log.jsonl").write_text('{"step": 1}\n{"step": 2,\n')
    with pytest.raises(DataError, match=r"train_log\.jsonl:2: not JSON"):
        load_train_log(tmp_path / "train_log.jsonl")
    (tmp_path / "list.jsonl").write_text("[1, 2]\n")
    with pytest.raises(DataError, match=r"list\.jsonl:1: each line must be a JSON object"):
        load_train_log(tmp_path / "list.jsonl")


def test_missing_or_wrong_run_files(inputs: Inputs, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"metrics\.json not found; run `profilerec evaluate`"):
        build_from_dirs(tmp_path, inputs.dataset.root)
    (tmp_path / "metrics.json").write_text('{"metrics": [1]}')
    inputs.ranks.write_parquet(tmp_path / "ranks.parquet")
    with pytest.raises(DataError, match="no 'metrics' table"):
        build_from_dirs(tmp_path, inputs.dataset.root)
    (tmp_path / "metrics.json").write_text('{"metrics": {\n')
    with pytest.raises(DataError, match=r"metrics\.json:2: not JSON"):
        build_from_dirs(tmp_path, inputs.dataset.root)


def test_report_command_shows_chosen_sets_side_by_side(inputs: Inputs, tmp_path: Path) -> None:
    from tests.data.test_bad_input import assert_one_line_error, run_cli

    run = tmp_path / "run"
    write_run(run, inputs)
    (tmp_path / "after").mkdir()
    inputs.profiles["blue"].write_parquet(tmp_path / "after" / "profiles.parquet")
    dataset = inputs.dataset.root
    done = run_cli(
        "report", run, "--dataset", dataset, "--before-after", "zero_shot:tuned",
        "--profiles", f"zero_shot={run / 'profiles_zs'}", "--profiles", f"tuned={tmp_path / 'after'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    html = (run / "report.html").read_text(encoding="utf-8")
    assert 'id="before-after"' in html and '<div class="pname">tuned</div>' in html
    bad = run_cli("report", run, "--dataset", dataset, "--before-after", "zero_shot")
    assert_one_line_error(
        bad, "--before-after 'zero_shot': expected BEFORE:AFTER, e.g. zero_shot:blue"
    )
    unknown = run_cli("report", run, "--dataset", dataset, "--before-after", "zero_shot:nope")
    assert unknown.returncode == 2 and "unknown profile set 'nope'" in unknown.stderr


def test_slices_from_metrics_json_when_no_slices_file(inputs: Inputs, tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_run(run, inputs)
    metrics = json.loads((run / "metrics.json").read_text())
    part = {
        "metrics": {"popularity": {"ndcg@10": 0.25}},
        "ci": {"popularity": {"ndcg@10": [0.1, 0.4]}},
    }
    metrics["slices"] = {"overall": {"n": 6, **part}, "cold_items": {"n": 2, **part}}
    (run / "metrics.json").write_text(json.dumps(metrics))
    html = build_from_dirs(run, inputs.dataset.root, n_users=1, date="2025-01-31").read_text()
    assert 'id="slices"' in html and "cold_items" in html and "targets with few training" in html
