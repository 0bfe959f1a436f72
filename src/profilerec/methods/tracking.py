"""Experiment tracking for profiler training: TRL's ``report_to``, with profilerec's places.

TRL users log to TensorBoard, MLflow or Weights & Biases with ``report_to``; a run's
``report_to`` option (YAML or ``--set report_to=tensorboard,mlflow``) is passed through to
TRL, so every loss, reward and KL figure TRL logs reaches those backends as well as
``train_log.jsonl`` (BLUE's GRPO trainer; RFT's SFT trainer of each round, TensorBoard in
``RUN/tensorboard/round_N`` and an MLflow run named ``round N``). Where they write:

- ``tensorboard``: ``RUN/tensorboard/`` (not TRL's default under ``checkpoints/``, which
  a run's checkpoint rotation owns); needs ``tensorboard`` or ``tensorboardX`` (extra
  ``tracking``). ``tensorboard --logdir RUN/tensorboard``.
- ``mlflow``: ``MLFLOW_TRACKING_URI`` when set (point trainings and evaluations at one
  store to see them together), else the local file store ``RUN/mlruns``, offline: MLflow 3
  refuses file stores unless ``MLFLOW_ALLOW_FILE_STORE`` is true and sends usage telemetry
  unless ``MLFLOW_DISABLE_TELEMETRY`` is, so both default to true for that store. Needs
  ``mlflow`` or ``mlflow-skinny`` (extra ``tracking``; skinny pulls no torch). An
  experiment (``profilerec run``) gives its trainings and evaluation one store, ``OUT/mlruns``.
- ``wandb``: as the ``wandb`` package is configured (``wandb login``, or
  ``WANDB_MODE=offline`` to write ``./wandb`` and sync later); needs ``wandb`` installed.

Checked before any model loads: an unknown name or a missing package is a one-line error.
An evaluation's metrics table goes to TensorBoard and MLflow too (``log_evaluation``:
``evaluate --report-to``, the ``report_to`` of an experiment's evaluate block); W&B is not
written for evaluations yet.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from profilerec.errors import UserError

BACKENDS = ("tensorboard", "mlflow", "wandb")
TENSORBOARD_DIR = "tensorboard"
MLFLOW_DIR = "mlruns"
MLFLOW_URI = "MLFLOW_TRACKING_URI"
#: The store this process last pointed ``MLFLOW_TRACKING_URI`` at: the next run (an
#: experiment trains several in one process) gets its own store instead of the first's;
#: a URI the user set is never changed.
_OURS: dict[str, str] = {}
#: Set to true for a local store: MLflow 3 refuses a file store otherwise, and a local
#: store means offline (no usage telemetry).
_OFFLINE = ("MLFLOW_ALLOW_FILE_STORE", "MLFLOW_DISABLE_TELEMETRY")


def parse_report_to(value: str) -> tuple[str, ...]:
    """``"none"`` / ``""`` -> (); ``"tensorboard,mlflow"`` -> both; unknown names refused."""
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    if names in ((), ("none",)):
        return ()
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise UserError(
            f"unknown report_to {', '.join(unknown)!s}; use none or any of {', '.join(BACKENDS)}"
        )
    return names


def check_installed(names: tuple[str, ...]) -> None:
    """Each backend's package is importable, or a one-line error saying what to install."""
    for name in names:
        if name == "tensorboard" and not _tensorboard_writer_available():
            raise UserError(
                "report_to tensorboard needs tensorboard or tensorboardX: "
                "pip install 'profilerec[tracking]'"
            )
        if name == "mlflow" and importlib.util.find_spec("mlflow") is None:
            raise UserError(
                "report_to mlflow needs mlflow or mlflow-skinny: pip install 'profilerec[tracking]'"
            )
        if name == "wandb" and importlib.util.find_spec("wandb") is None:
            raise UserError("report_to wandb needs the wandb package: pip install wandb")


def _tensorboard_writer_available() -> bool:
    if importlib.util.find_spec("tensorboardX") is not None:
        return True
    return importlib.util.find_spec("tensorboard") is not None


def tracking_setup(
    value: str, run_dir: Path, part: str | None = None
) -> tuple[list[str], list[Any]]:
    """(``report_to`` for TRL's arguments, callbacks to add) for a run writing to ``run_dir``.

    TensorBoard gets its callback here with an explicit writer (so its events land in
    ``RUN/tensorboard``, or ``RUN/tensorboard/PART`` for one of several trainers of a run,
    RFT's rounds); MLflow and W&B go to TRL by name, MLflow's store defaulting to
    ``RUN/mlruns``.
    """
    names = parse_report_to(value)
    check_installed(names)
    callbacks: list[Any] = []
    if "tensorboard" in names:
        from transformers.integrations import TensorBoardCallback

        writer_cls = _summary_writer()
        log_dir = run_dir / TENSORBOARD_DIR / (part or "")
        callbacks.append(TensorBoardCallback(tb_writer=writer_cls(log_dir=str(log_dir))))
    if "mlflow" in names:
        mlflow_store(run_dir)
    return [n for n in names if n != "tensorboard"], callbacks


@contextlib.contextmanager
def shared_mlflow_store(folder: Path) -> Iterator[str]:
    """Within the block, every run logging to MLflow uses one local store, ``folder/mlruns``
    (an experiment's trainings and its evaluation side by side), unless the user set
    ``MLFLOW_TRACKING_URI``; the environment is restored after."""
    current = os.environ.get(MLFLOW_URI)
    if current and current != _OURS.get(MLFLOW_URI):
        yield current
        return
    uri = (folder / MLFLOW_DIR).resolve().as_uri()
    saved = {k: os.environ.get(k) for k in (MLFLOW_URI, *_OFFLINE)}
    os.environ[MLFLOW_URI] = uri  # not ours: mlflow_store keeps it for every run
    for name in _OFFLINE:
        os.environ.setdefault(name, "true")
    try:
        yield uri
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def mlflow_store(folder: Path) -> str:
    """The MLflow tracking URI for a run in ``folder``: the user's ``MLFLOW_TRACKING_URI``,
    else the local file store ``folder/mlruns`` (set in the environment, where TRL reads it)."""
    current = os.environ.get(MLFLOW_URI)
    if current and current != _OURS.get(MLFLOW_URI):
        return current
    uri = (folder / MLFLOW_DIR).resolve().as_uri()
    os.environ[MLFLOW_URI] = _OURS[MLFLOW_URI] = uri
    for name in _OFFLINE:
        os.environ.setdefault(name, "true")
    return uri


def log_evaluation(
    metrics: dict[str, Any], value: str, log_dir: Path, mlflow_dir: Path | None = None
) -> list[str]:
    """Every method's figures and CIs from ``metrics.json`` to each backend ``value`` names.

    TensorBoard (in ``log_dir``): tags ``eval/METRIC/METHOD`` (one chart per metric, a line
    per method), ``eval_ci_low/...``, ``eval_ci_high/...``, and the paired comparisons as a
    text table. MLflow (the store of :func:`mlflow_store` for ``mlflow_dir``, default
    ``log_dir``'s parent): one run named ``evaluate`` holding the same figures (MLflow's
    names allow no ``@``: ``ndcg@10`` is ``ndcg_at_10``) and the comparisons as
    ``comparisons.md``. Returns where each backend wrote.
    """
    names = check_evaluation_backends(value)
    figures = _figures(metrics)
    table = _comparisons(metrics)
    written: list[str] = []
    if "tensorboard" in names:
        writer = _summary_writer()(log_dir=str(log_dir))
        try:
            for tag, figure in figures.items():
                writer.add_scalar(tag, figure, 0)
            if table:
                writer.add_text("eval/comparisons", table, 0)
        finally:
            writer.close()
        written.append(str(log_dir))
    if "mlflow" in names:
        written.append(_mlflow_evaluation(figures, table, metrics, mlflow_dir or log_dir.parent))
    return written


def check_evaluation_backends(value: str) -> tuple[str, ...]:
    """The backends an evaluation can log to, checked before any model loads."""
    names = parse_report_to(value)
    if "wandb" in names:
        raise UserError(
            "report_to wandb is not written for evaluations yet; use tensorboard or mlflow"
        )
    check_installed(names)
    return names


def _figures(metrics: dict[str, Any]) -> dict[str, float]:
    """``eval/METRIC/METHOD`` and its CI bounds (``eval_ci_low/...``) -> value."""
    out: dict[str, float] = {}
    for method, table in metrics.get("metrics", {}).items():
        for metric, figure in table.items():
            out[f"eval/{metric}/{method}"] = figure
            low, high = metrics.get("ci", {}).get(method, {}).get(metric, (None, None))
            if low is not None:
                out[f"eval_ci_low/{metric}/{method}"] = low
                out[f"eval_ci_high/{metric}/{method}"] = high
    return out


def _comparisons(metrics: dict[str, Any]) -> str:
    """The paired comparisons as a Markdown table ("" when there are none)."""
    rows = [
        f"| {c['method']} | {c['reference']} | {c['metric']} | {c['mean_diff']:+.4f} "
        f"| [{c['ci'][0]:+.4f}, {c['ci'][1]:+.4f}] | {c['p_value']:.3f} |"
        for c in metrics.get("comparisons", [])
    ]
    if not rows:
        return ""
    head = "| method | reference | metric | difference | CI | p |\n|---|---|---|---|---|---|\n"
    return head + "\n".join(rows)


def mlflow_name(tag: str) -> str:
    """A figure's name as MLflow accepts it (letters, digits, ``_ - . / :`` and spaces)."""
    return re.sub(r"[^\w\-. /:]", "_", tag.replace("@", "_at_"))


def _mlflow_evaluation(
    figures: dict[str, float], table: str, metrics: dict[str, Any], folder: Path
) -> str:
    """One MLflow run holding an evaluation's figures; returns the store's URI."""
    from mlflow import MlflowClient

    uri = mlflow_store(folder)
    client = MlflowClient(tracking_uri=uri)
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    experiment = "0"
    if name:
        found = client.get_experiment_by_name(name)
        experiment = found.experiment_id if found else client.create_experiment(name)
    params = {
        k: metrics[k] for k in ("split", "n_examples", "embedder", "reference") if k in metrics
    }
    run = client.create_run(experiment, run_name="evaluate", tags={"profilerec.stage": "evaluate"})
    run_id = run.info.run_id
    try:
        for key, figure in params.items():
            client.log_param(run_id, key, str(figure)[:250])
        for tag, figure in figures.items():
            client.log_metric(run_id, mlflow_name(tag), float(figure), step=0)
        if table:
            client.log_text(run_id, table, "comparisons.md")
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id)
    return uri


def _summary_writer() -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        from tensorboardX import SummaryWriter
    return SummaryWriter
