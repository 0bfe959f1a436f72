"""``build_from_dirs``: find a run's outputs on disk and write ``run_dir/report.html``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import DataError, UserError
from profilerec.evaluate.results import SLICES_FILE  # written by ProEx and PtE runs
from profilerec.report import tables
from profilerec.report.html import write_report

REPORT_FILE = "report.html"
TRAIN_LOG_NAMES = ("train_log.jsonl", "train_log.json", "train_log.csv")


def build_from_dirs(run_dir: str | Path, dataset_dir: str | Path, **options: Any) -> Path:
    """Report on an ``evaluate`` output folder; ``options`` go to ``write_report``.

    Reads ``metrics.json`` and ``ranks.parquet`` from ``run_dir``, ``slices.json`` when
    there (PtE runs), every ``profiles.parquet`` in ``run_dir`` or one folder below it,
    and every training log (``train_log.jsonl``/``.json``/``.csv``) anywhere under it.
    """
    run = Path(run_dir)
    metrics_path, ranks_path = run / "metrics.json", run / "ranks.parquet"
    if metrics_path.is_file() and _is_qa(metrics := _read_json(metrics_path)):
        from profilerec.report.qa import write_qa_report  # a `profilerec qa` folder

        return write_qa_report(run / REPORT_FILE, metrics, Path(dataset_dir).name)
    for path in (metrics_path, ranks_path):
        if not path.is_file():
            raise UserError(
                f"{path} not found; run `profilerec evaluate` with this output folder first"
            )
    metrics = _read_json(metrics_path)
    if not isinstance(metrics, dict) or not isinstance(metrics.get("metrics"), dict):
        raise DataError(
            metrics_path, "no 'metrics' table; is this the output of `profilerec evaluate`?"
        )
    _located(metrics_path, tables.check_diversity, metrics.get("diversity"))
    return write_report(
        run / REPORT_FILE,
        metrics=metrics,
        ranks=pl.read_parquet(ranks_path),
        dataset=Dataset.load(dataset_dir),
        **{
            "profiles": find_profiles(run, set(metrics["metrics"])),
            "train_logs": find_train_logs(run),
            # a PtE run's slices.json, else the slices evaluate writes into metrics.json
            "slices": load_slices(run / SLICES_FILE) or metrics.get("slices"),
            **options,  # explicit profiles / train_logs win over what was found on disk
        },
    )


def find_profiles(run: Path, evaluated: set[str]) -> dict[str, pl.DataFrame]:
    """Profile sets keyed like ``evaluate`` named them when possible.

    A set is named by its ``method`` column when that is one value, else by its
    folder; whichever of the two is an evaluated method wins, so the report's
    profile names match the rows of the metrics table.
    """
    found: dict[str, pl.DataFrame] = {}
    paths = [
        *run.glob("profiles.parquet"),
        *run.glob("*/profiles.parquet"),
        *run.glob("profiles/*/profiles.parquet"),
    ]
    for path in sorted(set(paths)):
        frame = pl.read_parquet(path)
        if "example_id" not in frame.columns or "profile" not in frame.columns:
            raise DataError(path, "not a profiles file (needs example_id and profile columns)")
        folder = path.parent.name
        methods = frame["method"].unique().to_list() if "method" in frame.columns else []
        candidates = [*methods[:1], folder] if len(methods) == 1 else [folder]
        name = next((c for c in candidates if c in evaluated), candidates[0])
        found[name if name not in found else f"{name} ({folder})"] = frame
    return found


def load_slices(path: Path) -> dict[str, Any] | None:
    """A PtE run's per-slice summaries; None when the run wrote none (not a PtE run)."""
    if not path.is_file():
        return None
    slices = _read_json(path)
    _located(path, tables.check_slices, slices)
    return slices


def _located(path: Path, check: Callable[[Any], None], value: Any) -> None:
    """Run ``check`` on what was read from ``path``; a failure names the file."""
    try:
        check(value)
    except UserError as err:
        raise DataError(path, str(err)) from None


def find_train_logs(run: Path) -> dict[str, list[dict[str, Any]]]:
    """Training logs keyed by their folder relative to ``run`` (``train`` at the top)."""
    logs: dict[str, list[dict[str, Any]]] = {}
    for name in TRAIN_LOG_NAMES:
        for path in sorted(run.rglob(name)):
            key = str(path.parent.relative_to(run)) if path.parent != run else "train"
            logs.setdefault(key, load_train_log(path))
    return logs


def load_train_log(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a per-step log: JSON lines, a JSON list, or CSV with a header."""
    path = Path(path)
    if path.suffix == ".csv":
        return pl.read_csv(path).to_dicts()
    if path.suffix == ".json":
        rows = _read_json(path)
        if not isinstance(rows, list):
            raise DataError(path, "expected a JSON list of per-step objects")
        return rows
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(path, f"not JSON: {err.msg}", n) from None
        if not isinstance(row, dict):
            raise DataError(path, "each line must be a JSON object", n)
        rows.append(row)
    return rows


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(path, f"not JSON: {err.msg}", err.lineno) from None


def _is_qa(metrics: Any) -> bool:
    return isinstance(metrics, dict) and metrics.get("kind") == "qa"
