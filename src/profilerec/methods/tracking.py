"""Experiment tracking for profiler training: TRL's ``report_to``, with profilerec's places.

TRL users log to TensorBoard, MLflow or Weights & Biases with ``report_to``; a run's
``report_to`` option (YAML or ``--set report_to=tensorboard,mlflow``) is passed through to
TRL, so every loss, reward and KL figure TRL logs reaches those backends as well as
``train_log.jsonl``. Where they write:

- ``tensorboard``: ``RUN/tensorboard/`` (not TRL's default under ``checkpoints/``, which
  a run's checkpoint rotation owns); needs ``tensorboard`` or ``tensorboardX`` (extra
  ``tracking``). ``tensorboard --logdir RUN/tensorboard``.
- ``mlflow``: ``MLFLOW_TRACKING_URI`` when set, else the local file store ``RUN/mlruns``
  (offline); needs ``mlflow`` installed (not an extra: it pulls some 20 packages).
- ``wandb``: as the ``wandb`` package is configured (``wandb login``, or
  ``WANDB_MODE=offline`` to write ``./wandb`` and sync later); needs ``wandb`` installed.

Checked before any model loads: an unknown name or a missing package is a one-line error.
An evaluation's metrics table goes to TensorBoard too (``log_evaluation``, the ``report_to``
of an experiment's evaluate block); MLflow and W&B are not written for evaluations yet.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from profilerec.errors import UserError

BACKENDS = ("tensorboard", "mlflow", "wandb")
TENSORBOARD_DIR = "tensorboard"
MLFLOW_DIR = "mlruns"


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
        if name in ("mlflow", "wandb") and importlib.util.find_spec(name) is None:
            raise UserError(f"report_to {name} needs the {name} package: pip install {name}")


def _tensorboard_writer_available() -> bool:
    if importlib.util.find_spec("tensorboardX") is not None:
        return True
    return importlib.util.find_spec("tensorboard") is not None


def tracking_setup(value: str, run_dir: Path) -> tuple[list[str], list[Any]]:
    """(``report_to`` for TRL's arguments, callbacks to add) for a run writing to ``run_dir``.

    TensorBoard gets its callback here with an explicit writer (so its events land in
    ``RUN/tensorboard``); MLflow and W&B go to TRL by name, MLflow's store defaulting to
    ``RUN/mlruns``.
    """
    names = parse_report_to(value)
    check_installed(names)
    callbacks: list[Any] = []
    if "tensorboard" in names:
        from transformers.integrations import TensorBoardCallback

        writer_cls = _summary_writer()
        log_dir = run_dir / TENSORBOARD_DIR
        callbacks.append(TensorBoardCallback(tb_writer=writer_cls(log_dir=str(log_dir))))
    if "mlflow" in names:
        store = (run_dir / MLFLOW_DIR).resolve()
        os.environ.setdefault("MLFLOW_TRACKING_URI", store.as_uri())
    return [n for n in names if n != "tensorboard"], callbacks


def log_evaluation(metrics: dict[str, Any], value: str, log_dir: Path) -> Path | None:
    """Every method's figures and CIs from ``metrics.json`` as TensorBoard scalars.

    Tags are ``eval/METRIC/METHOD`` (one chart per metric, a line per method) and
    ``eval_ci_low/...``, ``eval_ci_high/...``; the paired comparisons go in as a text
    table. Returns the log folder, or None when ``value`` names no backend.
    """
    names = parse_report_to(value)
    if not names:
        return None
    others = [n for n in names if n != "tensorboard"]
    if others:
        raise UserError(
            f"report_to {', '.join(others)} is not written for evaluations yet; use tensorboard"
        )
    check_installed(names)
    writer = _summary_writer()(log_dir=str(log_dir))
    try:
        for method, table in metrics.get("metrics", {}).items():
            for metric, figure in table.items():
                writer.add_scalar(f"eval/{metric}/{method}", figure, 0)
                low, high = metrics.get("ci", {}).get(method, {}).get(metric, (None, None))
                if low is not None:
                    writer.add_scalar(f"eval_ci_low/{metric}/{method}", low, 0)
                    writer.add_scalar(f"eval_ci_high/{metric}/{method}", high, 0)
        rows = [
            f"| {c['method']} | {c['reference']} | {c['metric']} | {c['mean_diff']:+.4f} "
            f"| [{c['ci'][0]:+.4f}, {c['ci'][1]:+.4f}] | {c['p_value']:.3f} |"
            for c in metrics.get("comparisons", [])
        ]
        if rows:
            head = (
                "| method | reference | metric | difference | CI | p |\n|---|---|---|---|---|---|\n"
            )
            writer.add_text("eval/comparisons", head + "\n".join(rows), 0)
    finally:
        writer.close()
    return log_dir


def _summary_writer() -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        from tensorboardX import SummaryWriter
    return SummaryWriter
