"""Which methods the server offers, read from the evaluation it serves.

With ``--evaluation DIR`` the server offers exactly the methods that evaluation reports
(its ``metrics.json``), each as ``evaluate`` fitted and fused it: ID baselines at the
parameters chosen on validation (refitted on train + valid where it refitted), hybrids
at the weight and with the ID model it chose, items at its text budget. Without one it
offers the methods that need no tuning plus popularity and item-kNN at their defaults
(what ``evaluate --no-tune`` fits), and no hybrid: a hybrid's weight is evaluate's choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilerec.errors import UserError
from profilerec.serve.types import Served

if TYPE_CHECKING:
    from profilerec.data.dataset import Dataset

#: Served without an evaluation (no hybrid: its weight is chosen by ``evaluate``).
UNTUNED_METHODS = ("popularity", "itemknn", "history_text", "mean_history")


@dataclass(frozen=True)
class Evaluation:
    """The parts of an evaluation's ``metrics.json`` the server follows."""

    path: str | None
    #: Method names, in the order the evaluation reports them.
    names: list[str]
    tuning: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def item_text_budget(self) -> int:
        from profilerec.evaluate.stage import EvaluateConfig

        return int(self.config.get("item_text_budget", EvaluateConfig.item_text_budget))

    @property
    def k(self) -> int:
        return max(self.config.get("ks") or (10, 20, 50))

    @property
    def mask_history(self) -> bool:
        return bool(self.config.get("mask_history", True))

    @property
    def chunk_size(self) -> int:
        return int(self.config.get("chunk_size", 1024))


def read_evaluation(source: str | Path | None, ds: Dataset) -> Evaluation:
    """``source``'s metrics.json (a folder or the file), checked to be a test evaluation
    of ``ds``; None gives the untuned defaults."""
    if source is None:
        return Evaluation(None, list(UNTUNED_METHODS))
    from profilerec.evaluate.metrics_file import read_metrics_of

    path, metrics = read_metrics_of(ds, source, "--evaluation")
    if metrics.get("split", "test") != "test":
        raise UserError(f"--evaluation {source}: it ranked {metrics['split']!r}, not test")
    return Evaluation(
        str(path),
        list(metrics["metrics"]),
        metrics.get("tuning") or {},
        metrics.get("config") or {},
    )


def served_methods(
    evaluation: Evaluation, profile_sets: list[str], note: Callable[[str], None]
) -> dict[str, Served]:
    """What the server offers, profile methods first (the page opens on them); a method
    whose profile set was not given is left out and named through ``note``."""
    from profilerec.evaluate import registry as R  # the loading thread's (torch)

    names = list(evaluation.names)
    for name in profile_sets:  # a set given to serve but not evaluated: its plain methods
        if name not in names:
            names += [name, f"history+{name}"]
    out: dict[str, Served] = {}
    missing: list[str] = []
    for name in names:
        m = R.method(name)
        if m.profile_set is not None and m.profile_set not in profile_sets:
            missing.append(name)
            continue
        record = evaluation.tuning.get(name) or {}
        if m.kind == "hybrid":
            if "id_model" not in record or "weight" not in (record.get("chosen") or {}):
                missing.append(f"{name} (no tuning record)")
                continue
            weight, id_model = record["chosen"]["weight"], record["id_model"]
            out[name] = Served(m, R.label(name, evaluation.tuning), float(weight), id_model)
        else:
            out[name] = Served(m, name)
    if missing:
        note(f"not served (a profile set not given with --profiles NAME=DIR): {', '.join(missing)}")
    first = [n for n, s in out.items() if s.method.profile_set is not None]
    return {n: out[n] for n in [*first, *(n for n in out if n not in first)]}


def fit_id_models(
    ds: Dataset,
    evaluation: Evaluation,
    served: Mapping[str, Served],
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Every ID model the served methods score with, fitted as the evaluation fitted it."""
    from profilerec.evaluate import registry as R
    from profilerec.evaluate.methods import fixed_params
    from profilerec.recsys.baselines import build_baseline

    names = [n for n, s in served.items() if s.method.kind == "id"]
    names += [s.id_model for s in served.values() if s.id_model and s.id_model not in names]
    out: dict[str, Any] = {}
    for name in names:
        progress(f"fitting {name}")
        if evaluation.path is None:
            out[name] = build_baseline(name, **fixed_params(name, 0)).fit(ds)
            continue
        record = evaluation.tuning.get(name)
        if not isinstance(record, Mapping) or "chosen" not in record:
            raise UserError(f"--evaluation {evaluation.path}: no tuning record of {name}")
        out[name] = R.fit_as_evaluated(ds, name, record, evaluation.config)
    return out
