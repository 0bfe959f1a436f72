"""``profilerec run EXPERIMENT.yaml`` on the tiny models: stages skipped, resumed, redone."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from _blue_defaults import BLUE_BEFORE_37
from profilerec.errors import UserError
from profilerec.experiment import load_experiment, run_experiment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "experiments"


def _experiment(tmp: Path, lm: Path, st: Path, *, tokens: int = 8, bootstrap: int = 50) -> Path:
    spec = {
        "dataset": {"source": "demo"},
        "profiles": {
            "zero_shot": {
                "generator": f"transformers:{lm}", "dtype": "float32", "device": "cpu",
                "limit": 6, "batch_size": 3, "generation": {"max_new_tokens": tokens},
            }
        },
        "evaluate": {
            "embedder": f"sentence-transformers:{st}",
            "report_to": "tensorboard",
            "options": {"limit": 6, "tune": False, "bootstrap": bootstrap,
                        "methods": ["popularity", "history_text"]},
        },
        "report": True,
    }  # fmt: skip
    path = tmp / "experiment.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


class _Killed(KeyboardInterrupt):
    pass


def test_rerun_redoes_only_unfinished_or_edited_stages(
    tmp_path: Path, tiny_lm_dir: Path, tiny_st_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import profilerec.evaluate.stage as evaluate_stage

    path = _experiment(tmp_path, tiny_lm_dir, tiny_st_dir)
    real = evaluate_stage.run_evaluate

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise _Killed  # the experiment is killed while it evaluates

    monkeypatch.setattr(evaluate_stage, "run_evaluate", killed)
    with pytest.raises(_Killed):
        run_experiment(load_experiment(path, tmp_path / "exp"))
    out = tmp_path / "exp"
    state = json.loads((out / "experiment.json").read_text())
    assert set(state["finished"]) == {"dataset", "profiles/zero_shot"}
    assert "evaluate" in state["started"] and not (out / "eval" / "metrics.json").exists()
    profiles_before = (out / "profiles" / "zero_shot" / "profiles.parquet").read_bytes()

    monkeypatch.setattr(evaluate_stage, "run_evaluate", real)
    result = run_experiment(load_experiment(path, tmp_path / "exp"))
    assert result["ran"] == ["evaluate", "report"]  # prepare and profile were kept
    assert (out / "eval" / "metrics.json").is_file() and (out / "eval" / "report.html").is_file()
    metrics = json.loads((out / "eval" / "metrics.json").read_text())["metrics"]
    assert "zero_shot" in metrics
    if importlib.util.find_spec("tensorboardX") is not None:  # the table on TensorBoard too
        from _tensorboard import scalars

        logged = {tag: value for tag, _, value in scalars(out / "tensorboard" / "eval")}
        # every method's every figure (TensorBoard writes @ and + in a tag as _)
        clean = lambda tag: re.sub(r"[^-/\w.]", "_", tag)  # noqa: E731
        table = {clean(f"eval/{k}/{m}"): v for m, t in metrics.items() for k, v in t.items()}
        assert {t: logged.get(t) for t in table} == pytest.approx(table)
        assert any(table.values())

    assert run_experiment(load_experiment(path, tmp_path / "exp"))["ran"] == []  # nothing changed

    _experiment(tmp_path, tiny_lm_dir, tiny_st_dir, bootstrap=60)  # edit the evaluate block
    assert run_experiment(load_experiment(path, tmp_path / "exp"))["ran"] == ["evaluate", "report"]

    _experiment(tmp_path, tiny_lm_dir, tiny_st_dir, tokens=5, bootstrap=60)  # edit a profile set
    assert run_experiment(load_experiment(path, tmp_path / "exp"))["ran"] == ["profiles/zero_shot", "evaluate", "report"]  # fmt: skip
    assert (out / "profiles" / "zero_shot" / "profiles.parquet").read_bytes() != profiles_before


def test_demo_example_is_the_quickstart_comparison() -> None:
    from profilerec.data.prepare import PrepareConfig
    from profilerec.quickstart import QuickstartConfig

    exp = load_experiment(EXAMPLES / "demo.yaml", "unused")
    quick = QuickstartConfig()
    assert exp.source == "demo" and exp.prepare == PrepareConfig()
    assert exp.profiles["zero_shot"].config == dataclasses.replace(
        quick.profile, method="zero_shot"
    )
    assert exp.evaluate == quick.evaluate and exp.embedder == "sentence-transformers"
    assert exp.report and exp.evaluate_sets == ("zero_shot",)


def test_industrial_example_loads() -> None:
    exp = load_experiment(EXAMPLES / "industrial.yaml", "unused")
    assert exp.source == {"download": "minionerec", "category": "Industrial_and_Scientific"}
    assert exp.prepare.format == "minionerec"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dataset: {source: demo}\nprofile: {}\n", "unknown key(s) profile"),
        ("dataset: {source: demo}\nprofiles: {a: {bogus: 1}}\n", "profiles.a: unknown option(s) bogus"),
        ("dataset: {source: demo, prepare: {k_core: many}}\n", "k_core must be a number"),
        ("dataset: {source: demo}\nprofiles: {a: {training: b}}\n", "training 'b' is not in trainings"),
        ("dataset: {source: demo}\nevaluate: {profiles: [z]}\n", "profiles z are not in the profiles block"),
        ("out: x\ndataset: {source: demo}\n", "unknown key(s) out"),
        ("dataset: {source: {download: nope}}\n", "unknown dataset 'nope'"),
    ],
)  # fmt: skip
def test_bad_files_are_one_line_errors_before_anything_runs(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_experiment(path, tmp_path / "exp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # nothing written


def test_cli_check_and_error(tmp_path: Path) -> None:
    from bad_input._cli import assert_error, run_cli

    ok = run_cli("run", EXAMPLES / "demo.yaml", "--out", tmp_path / "exp", "--check")
    assert ok.returncode == 0 and "ok (1 profile sets" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: {source: demo}\nreport: maybe\n")
    assert_error(run_cli("run", bad, "--out", tmp_path / "exp"), "report must be true or false")


def test_a_profile_set_from_a_training_uses_its_adapter(
    tmp_path: Path, tiny_lm_dir: Path, tiny_st_dir: Path
) -> None:
    spec = {
        "dataset": {"source": "demo"},
        "trainings": {"blue": {"set": {**BLUE_BEFORE_37,  # the defaults before issue 37
            "model": str(tiny_lm_dir), "max_steps": 2, "num_generations": 2, "prompts_per_step": 1,
            "max_completion_length": 6, "train_examples": 6, "eval_examples": 4, "eval_every": 2,
            "save_every": 2, "learning_rate": 0.05, "weight_next_item": 0.0}}},
        "profiles": {"blue": {"training": "blue", "dtype": "float32", "device": "cpu", "limit": 4,
                              "generation": {"max_new_tokens": 6}}},
        "evaluate": {"embedder": f"sentence-transformers:{tiny_st_dir}",
                     "options": {"limit": 4, "tune": False, "bootstrap": 20, "methods": ["popularity"]}},
        "report": False,
    }  # fmt: skip
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = run_experiment(load_experiment(path, tmp_path / "exp"))
    assert result["ran"] == ["dataset", "train/blue", "profiles/blue", "evaluate"]
    import polars as pl

    model_ids = set(
        pl.read_parquet(tmp_path / "exp" / "profiles" / "blue" / "profiles.parquet")["model_id"]
    )
    (model_id,) = model_ids
    assert str(tiny_lm_dir) in model_id and "+adapter:" in model_id  # the run's base + adapter
