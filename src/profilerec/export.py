"""``profilerec export``: a trained profiler as a folder anyone can load, with its model card.

A run folder is LoRA weights plus profilerec-specific JSON: without profilerec nobody can
load it, and nothing says what it was trained on or how well it did. The export is

- unmerged (default): the PEFT adapter and the tokenizer, loadable with
  ``AutoModelForCausalLM.from_pretrained(DIR)`` (transformers loads the base named in
  ``adapter_config.json`` and applies the adapter when peft is installed) or
  ``PeftModel.from_pretrained(base, DIR)``; small, but the base must be reachable;
- merged (``--merge``): the adapter folded into the base weights, a plain transformers
  checkpoint (``--generator transformers:DIR``), self-contained;

and in both a ``README.md`` model card: the base model and its licence, the training data
and split, the reward and recipe, the exposure record (which users and examples the run
saw), and, given an evaluation, its test figures with CIs against the untrained profiler.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profilerec.errors import UserError
from profilerec.export_card import model_card

CARD = "README.md"
#: The file that marks a folder as an export (README.md alone marks nothing).
RECORD = "profilerec_export.json"
#: The bundled base: SmolLM2-135M-Instruct (HuggingFaceTB), de-quantized from the Q4_1 GGUF.
BUNDLED_BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
BUNDLED_LICENCE = "apache-2.0"


@dataclass(frozen=True)
class ExportConfig:
    """How to export: merged or not, and what the card reports."""

    merge: bool = False
    #: An evaluate folder (metrics.json) holding this run's profiles and the untrained ones.
    eval_dir: Path | None = None
    #: The profile-set names in that evaluation: this run's, and the untrained profiler's
    #: (default: the evaluation's reference).
    method: str | None = None
    untrained: str | None = None
    #: The dataset the run trained on (its manifest names sources, filters and split).
    dataset: Path | None = None
    overwrite: bool = False


def export_run(run: str | Path, out: str | Path, config: ExportConfig) -> Path:
    """Write the export folder ``out`` for training run ``run``; returns ``out``."""
    from profilerec.atomic import atomic_folder, check_target
    from profilerec.profile.runs import adapter_dir, base_model_of, is_run_folder

    run, out = Path(run), Path(out)
    if not is_run_folder(run):
        raise UserError(
            f"{run}: not a training run folder (no blue_config.json or rft_config.json)"
        )
    adapter = adapter_dir(run)
    settings = _run_config(run)
    figures = _figures(config) if config.eval_dir is not None else None
    dataset = _dataset_summary(config.dataset) if config.dataset is not None else None
    base = base_model_of(run)
    source = _base_source(base)
    marker = "config.json" if config.merge else "adapter_config.json"
    check_target(out, RECORD, "export", overwrite=config.overwrite)
    with atomic_folder(out, RECORD, "export", overwrite=config.overwrite) as tmp:
        _write_weights(source, adapter, tmp, merge=config.merge)
        if (run / "exposure.parquet").is_file():
            shutil.copy2(run / "exposure.parquet", tmp / "exposure.parquet")
        record = {
            "run": str(run.resolve()),
            "adapter": str(adapter.resolve()),
            "base_model": base or BUNDLED_BASE,
            "base_source": source,
            "merged": config.merge,
            "config": settings,
            "dataset": dataset,
            "figures": figures,
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=2, default=str))
        card = model_card(record, exposure=_exposure_summary(run), log=_log_summary(run))
        (tmp / CARD).write_text(card)
        if not (tmp / marker).is_file():
            raise UserError(f"export of {run} wrote no {marker}; nothing kept")
    return out


def _base_source(base: str | None) -> str:
    """Where the base weights load from: the run's model, or the bundled SmolLM2 folder."""
    if base is not None:
        return base
    from profilerec.llm.bundled import bundled_smollm2_dir

    return str(bundled_smollm2_dir())


def _write_weights(source: str, adapter: Path, tmp: Path, *, merge: bool) -> None:
    """The adapter (pointing at its base) or the merged checkpoint, plus the tokenizer."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    tokenizer.save_pretrained(tmp)
    if merge:
        base = AutoModelForCausalLM.from_pretrained(
            source, dtype=torch.float32, local_files_only=True
        )
        merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
        merged.save_pretrained(tmp, safe_serialization=True)
        return
    for path in adapter.iterdir():
        if path.is_file() and path.name.startswith("adapter_"):
            shutil.copy2(path, tmp / path.name)
    config_path = tmp / "adapter_config.json"
    adapter_config = json.loads(config_path.read_text())
    adapter_config["base_model_name_or_path"] = source  # where this machine loads it from
    config_path.write_text(json.dumps(adapter_config, indent=2))


def _run_config(run: Path) -> dict[str, Any]:
    for name in ("blue_config.json", "rft_config.json"):
        if (run / name).is_file():
            return {
                "kind": name.removesuffix("_config.json"),
                **json.loads((run / name).read_text()),
            }
    return {}


def _exposure_summary(run: Path) -> dict[str, Any] | None:
    """Users and roles in the run's exposure record (``profile/exposure.py``)."""
    path = run / "exposure.parquet"
    if not path.is_file():
        return None
    import polars as pl

    frame = pl.read_parquet(path)
    roles = {
        str(role): int(n)
        for role, n in frame.group_by("role").agg(pl.col("user_id").n_unique()).iter_rows()
    }
    return {"users": int(frame["user_id"].n_unique()), "users_by_role": roles}


def _log_summary(run: Path) -> dict[str, Any] | None:
    """Steps trained and the validation figure that picked the kept adapter."""
    best = run / "best.json"
    summary: dict[str, Any] = {}
    if best.is_file():
        summary["best"] = json.loads(best.read_text())
    log = run / "train_log.jsonl"
    if log.is_file():
        rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        steps = [r["step"] for r in rows if "step" in r]
        summary["steps"] = max(steps) if steps else 0
    return summary or None


def _dataset_summary(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise UserError(f"--dataset {folder}: not a prepared dataset (no manifest.json)")
    manifest = json.loads(path.read_text())
    split = manifest.get("config", {}).get("split", {})
    return {
        "path": str(folder.resolve()),
        "format": manifest.get("format"),
        "sources": [s.get("path") for s in manifest.get("sources", [])],
        "split": split,
        "counts": {
            k: manifest["counts"].get(k) for k in ("users", "items", "interactions", "examples")
        },
    }


def _figures(config: ExportConfig) -> dict[str, Any]:
    """This run's test figures, the untrained profiler's, and their paired differences."""
    assert config.eval_dir is not None
    path = config.eval_dir / "metrics.json"
    if not path.is_file():
        raise UserError(f"--eval {config.eval_dir}: no metrics.json (an evaluate folder?)")
    metrics = json.loads(path.read_text())
    known = sorted(metrics.get("metrics", {}))
    untrained = config.untrained or metrics.get("reference")
    method = config.method
    for flag, name in (("--method", method), ("--untrained", untrained)):
        if name not in metrics.get("metrics", {}):
            raise UserError(
                f"{flag} {name!r} is not a method of {path}; one of: {', '.join(known)}"
            )
    if method == untrained:
        raise UserError("--method and --untrained name the same profile set")
    rows = []
    for metric, value in metrics["metrics"][method].items():
        row: dict[str, Any] = {
            "metric": metric,
            "trained": value,
            "trained_ci": metrics["ci"][method][metric],
            "untrained": metrics["metrics"][untrained][metric],
            "untrained_ci": metrics["ci"][untrained][metric],
        }
        for comp in metrics.get("comparisons", []):
            if (comp["method"], comp["reference"], comp["metric"]) == (method, untrained, metric):
                row |= {"diff": comp["mean_diff"], "diff_ci": comp["ci"], "p": comp["p_value"]}
        rows.append(row)
    return {
        "eval": str(config.eval_dir.resolve()),
        "method": method,
        "untrained": untrained,
        "split": metrics.get("split"),
        "n_examples": metrics.get("n_examples"),
        "resampled": metrics.get("resampled"),
        "embedder": metrics.get("embedder"),
        "rows": rows,
    }
