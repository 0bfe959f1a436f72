"""``report_to``: TRL's figures reach TensorBoard (offline) from a 2-step tiny training."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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


def test_two_step_training_writes_a_tensorboard_event_file(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tensorboardX", reason="the tracking extra (in dev) is not installed")
    from profilerec.embed import load_embedder
    from profilerec.methods.blue.trainer import train_blue

    cfg = BlueConfig(
        model=str(tiny_lm_dir), max_steps=2, num_generations=2, prompts_per_step=1,
        max_completion_length=6, train_examples=6, eval_examples=4, eval_every=2,
        save_every=2, weight_next_item=0.0, report_to="tensorboard",
    )  # fmt: skip
    run = tmp_path / "run"
    emb = load_embedder(f"sentence-transformers:{tiny_st_dir}")
    train_blue(Dataset.load(demo_dataset), emb, run, cfg, progress=False)
    logged = scalars(run / "tensorboard")
    steps = {step for tag, step, _ in logged if tag == "train/loss"}
    assert steps == {1, 2}, sorted({t for t, _, _ in logged})
    assert any(tag.startswith("train/rewards/") for tag, _, _ in logged)
    # the same figures as train_log.jsonl, TRL's own record
    import json

    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    losses = {r["step"]: r["loss"] for r in log if "loss" in r}
    for tag, step, value in logged:
        if tag == "train/loss":
            assert value == pytest.approx(losses[step], rel=1e-5, abs=1e-6)
