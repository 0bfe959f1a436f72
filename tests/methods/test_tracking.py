"""``report_to``: TRL's figures reach TensorBoard (offline) from a 2-step tiny training."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from _tensorboard import scalars
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.tracking import check_installed, parse_report_to


def test_report_to_names_are_checked_when_the_config_is_built() -> None:
    assert parse_report_to("none") == () and parse_report_to("") == ()
    assert parse_report_to("tensorboard, mlflow,tensorboard") == ("tensorboard", "mlflow")
    with pytest.raises(UserError, match="unknown report_to comet"):
        BlueConfig(report_to="comet")


def test_a_missing_backend_package_is_a_one_line_error() -> None:
    if importlib.util.find_spec("wandb") is not None:
        pytest.skip("wandb is installed here")
    with pytest.raises(UserError, match="report_to wandb needs the wandb package"):
        check_installed(("wandb",))


def _two_steps(report_to: str, data: Path, lm: Path, st: Path, tmp_path: Path) -> Path:
    """A 2-step BLUE run of the tiny model logging to ``report_to``; returns its folder."""
    from profilerec.embed import load_embedder
    from profilerec.methods.blue.trainer import train_blue

    cfg = BlueConfig(
        model=str(lm), max_steps=2, num_generations=2, prompts_per_step=1,
        max_completion_length=6, train_examples=6, eval_examples=4, eval_every=2,
        save_every=2, weight_next_item=0.0, report_to=report_to,
    )  # fmt: skip
    run = tmp_path / "run"
    emb = load_embedder(f"sentence-transformers:{st}")
    train_blue(Dataset.load(data), emb, run, cfg, progress=False)
    return run


def _losses(run: Path) -> dict[int, float]:
    """Step -> loss from train_log.jsonl, TRL's own record."""
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in log if "loss" in r}


def test_two_step_training_writes_a_tensorboard_event_file(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tensorboardX", reason="the tracking extra (in dev) is not installed")
    run = _two_steps("tensorboard", demo_dataset, tiny_lm_dir, tiny_st_dir, tmp_path)
    logged = scalars(run / "tensorboard")
    steps = {step for tag, step, _ in logged if tag == "train/loss"}
    assert steps == {1, 2}, sorted({t for t, _, _ in logged})
    assert any(tag.startswith("train/rewards/") for tag, _, _ in logged)
    # the same figures as train_log.jsonl, TRL's own record
    losses = _losses(run)
    for tag, step, value in logged:
        if tag == "train/loss":
            assert value == pytest.approx(losses[step], rel=1e-5, abs=1e-6)


@pytest.fixture
def offline_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user MLflow settings; whatever the code sets in the environment is undone after."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    for name in ("MLFLOW_ALLOW_FILE_STORE", "MLFLOW_DISABLE_TELEMETRY"):
        monkeypatch.setenv(name, "true")  # before mlflow is imported: it reads them then
    pytest.importorskip("mlflow", reason="mlflow(-skinny) of the dev extra is not installed")


def _mlflow_runs(store: Path) -> list[Any]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    return [
        (run, client)
        for exp in client.search_experiments()
        for run in client.search_runs([exp.experiment_id])
    ]


def test_two_step_training_writes_an_mlflow_run(
    offline_mlflow: None, demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    """TRL's report_to mlflow, into the run's local file store (no server, no network)."""
    run = _two_steps("mlflow", demo_dataset, tiny_lm_dir, tiny_st_dir, tmp_path)
    ((found, client),) = _mlflow_runs(run / "mlruns")
    assert found.info.status == "FINISHED"
    history = {m.step: m.value for m in client.get_metric_history(found.info.run_id, "loss")}
    losses = _losses(run)
    assert set(history) == {1, 2} and history == pytest.approx(losses, rel=1e-5, abs=1e-6)
    assert any(k.startswith("rewards") for k in found.data.metrics), sorted(found.data.metrics)
    # a second run of the same process gets its own store, not the first one's
    from profilerec.methods.tracking import mlflow_store

    assert mlflow_store(tmp_path / "other") == (tmp_path / "other" / "mlruns").resolve().as_uri()


def test_evaluate_logs_its_table_to_tensorboard_and_mlflow(
    offline_mlflow: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tmp_path: Path,
) -> None:
    """``evaluate --report-to``: every method's figures and CIs, as metrics.json holds them."""
    import profilerec.cli.evaluate as evaluate_cli
    from _embedders import KeywordEmbedder
    from bad_input._inproc import run_main

    monkeypatch.setattr(evaluate_cli, "make_engine_embedder", lambda *a: KeywordEmbedder())
    out = tmp_path / "eval"
    args = ["evaluate", demo_dataset, "--out", out, "--method", "popularity"]
    args += ["--method", "history_text", "--no-tune", "--limit", "20"]
    code, err = run_main(monkeypatch, capsys, *args, "--report-to", "tensorboard,mlflow")
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    table = {f"eval/{k}/{m}": v for m, t in metrics["metrics"].items() for k, v in t.items()}
    ((found, _),) = _mlflow_runs(out / "mlruns")
    from profilerec.methods.tracking import mlflow_name

    assert found.data.metrics == pytest.approx(
        {**{mlflow_name(t): v for t, v in table.items()}, **_ci_names(metrics)}
    )
    if importlib.util.find_spec("tensorboardX") is not None:
        logged = {tag: value for tag, _, value in scalars(out / "tensorboard")}
        clean = {t.replace("@", "_"): v for t, v in table.items()}  # TensorBoard's tag rule
        assert {t: logged.get(t) for t in clean} == pytest.approx(clean)
    # a rerun replaces the folder, its own logs included (not refused as foreign files)
    code, err = run_main(monkeypatch, capsys, *args)
    assert code == 0 and not (out / "mlruns").exists(), err


def _ci_names(metrics: dict[str, Any]) -> dict[str, float]:
    from profilerec.methods.tracking import mlflow_name

    return {
        mlflow_name(f"eval_ci_{side}/{k}/{m}"): bounds[i]
        for m, t in metrics["ci"].items()
        for k, bounds in t.items()
        for i, side in enumerate(("low", "high"))
    }


def test_evaluate_report_to_wandb_is_refused_before_the_embedder(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tmp_path: Path,
) -> None:
    import profilerec.cli.evaluate as evaluate_cli
    from bad_input._inproc import no_model, run_main

    monkeypatch.setattr(evaluate_cli, "make_engine_embedder", no_model)
    args = ["evaluate", demo_dataset, "--out", tmp_path / "e", "--report-to", "wandb"]
    code, err = run_main(monkeypatch, capsys, *args)
    assert code == 2 and "report_to wandb is not written for evaluations yet" in err, err


def test_rft_rounds_reach_tensorboard_and_mlflow(
    offline_mlflow: None, demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    """RFT passes report_to to each round's SFT trainer: RUN/tensorboard/round_N, an MLflow
    run per round."""
    pytest.importorskip("tensorboardX", reason="the tracking extra (in dev) is not installed")
    from profilerec.embed import load_embedder
    from profilerec.methods.rft.config import RFTConfig
    from profilerec.methods.rft.train import train_rft

    cfg = RFTConfig(
        model=str(tiny_lm_dir), train_examples=4, num_samples=2, max_new_tokens=4,
        gen_batch_size=4, min_gain=-1.0, epochs=1, batch_size=2, learning_rate=5e-2,
        eval_examples=2, rounds=1, report_to="tensorboard,mlflow",
    )  # fmt: skip
    run = tmp_path / "run"
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    train_rft(Dataset.load(demo_dataset), emb, run, cfg, progress=False)
    logged = {tag for tag, _, _ in scalars(run / "tensorboard" / "round_1")}
    assert "train/train_loss" in logged, sorted(logged)
    ((found, _),) = _mlflow_runs(run / "mlruns")
    assert found.info.run_name == "round 1" and found.info.status == "FINISHED"
    assert "train_loss" in found.data.metrics, sorted(found.data.metrics)


def test_an_experiment_gives_its_runs_one_mlflow_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Trainings and the evaluation of one experiment log side by side in OUT/mlruns; the
    environment is restored after, and a URI the user set is kept."""
    pytest.importorskip("mlflow", reason="mlflow(-skinny) of the dev extra is not installed")
    import os

    from profilerec.methods.tracking import mlflow_store, shared_mlflow_store, tracking_setup

    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_ALLOW_FILE_STORE", "MLFLOW_DISABLE_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "exp"
    with shared_mlflow_store(out) as uri:
        assert uri == (out / "mlruns").resolve().as_uri()
        assert tracking_setup("mlflow", out / "train" / "a") == (["mlflow"], [])
        assert os.environ["MLFLOW_TRACKING_URI"] == uri  # the training's store
        assert mlflow_store(out / "train" / "b") == uri and mlflow_store(out) == uri
    assert "MLFLOW_TRACKING_URI" not in os.environ
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    with shared_mlflow_store(out) as uri:
        assert uri == "http://tracking.example:5000" == mlflow_store(out / "train" / "a")
