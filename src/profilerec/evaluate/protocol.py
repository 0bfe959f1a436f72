"""The evaluation protocol: its settings (``EvaluateConfig``, written into metrics.json)
and how per-example metrics become means, bootstrap CIs and paired tests (``summarise``).

Apart from ``stage`` so that ``slices`` and ``results``, which summarise too, import these
without importing the stage that imports them (an import circle before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from profilerec.errors import UserError
from profilerec.evaluate.registry import BASE_METHODS, ID_METHODS
from profilerec.retrieval import bootstrap_ci, paired_bootstrap


@dataclass
class EvaluateConfig:
    """Evaluation protocol settings; written into metrics.json."""

    #: Split whose examples are ranked.
    split: str = "test"
    #: Methods that need no profiles; profile sets add ``<name>`` and ``history+<name>``.
    methods: tuple[str, ...] = BASE_METHODS
    #: Cut-offs for Recall/NDCG/HR.
    ks: tuple[int, ...] = (10, 20, 50)
    #: Character budget of each item's text for the embedder.
    item_text_budget: int = 300
    #: Users ranked per chunk (bounds memory: chunk x catalogue scores).
    chunk_size: int = 1024
    #: Bootstrap resamples for CIs and paired tests.
    bootstrap: int = 1000
    #: Method every other one is compared with (default: the first profile set, else history_text).
    reference: str | None = None
    #: Cut-offs of the paired tests (NDCG and Recall at each); None = the smallest of ``ks``.
    compare_ks: tuple[int, ...] | None = None
    #: Evaluate only the first N examples (0 = all).
    limit: int = 0
    seed: int = 0
    #: Tune every ID baseline and the hybrid on validation by their documented grids;
    #: False fits the documented defaults (the hybrid still picks its weight).
    tune: bool = True
    #: ID baselines fitted at their documented defaults even when ``tune`` is on
    #: (quickstart: sasrec, whose four-point grid costs minutes on a CPU).
    untuned: tuple[str, ...] = ()
    #: Fixed parameters per ID baseline, applied at every grid point, e.g.
    #: ``{"sasrec": {"epochs": 60}}`` (quickstart caps SASRec's epochs to stay under 10 min).
    baseline_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Slices: a target with at most this many training interactions is a cold item.
    cold_item_max: int = 5
    #: Slices: an example with 1..this many earlier items is a short-history user. 4: under
    #: the 5-core that ``prepare`` applies every test example has at least 4 earlier items,
    #: so the former 2 made the slice always empty; 4 is the fewest a user there can have
    #: (59 of the demo's 253 test examples).
    short_history_max: int = 4
    #: Slices: the bottom fraction of items by training popularity is the long tail.
    tail_item_frac: float = 0.8
    #: Remove the user's earlier items from each ranking (the default, and how every
    #: baseline is tuned). False ranks the full catalogue as it is, the protocol of the
    #: generative-recommendation papers (MiniOneRec, TIGER) whose figures we set beside ours.
    mask_history: bool = True
    #: A profile set that covers only some validation examples (``profile --sample-users``)
    #: still gets its hybrid when it covers at least this many: the weight is chosen on them.
    hybrid_min_valid: int = 500
    #: An earlier evaluation folder (or its metrics.json) on the same dataset whose ID
    #: baselines' chosen parameters are reused instead of searching their grids again
    #: (each is refitted once; its tuning record is carried over with ``reused_from``).
    tuning_from: str | None = None
    #: Test split only: after choosing every ID baseline's parameters on validation (fitted
    #: on training interactions), fit it again at those parameters on everything before
    #: the user's first test target, validation targets included, and rank test with that
    #: (SASRec trains for the epochs early stopping kept). The hybrid's weight is still
    #: chosen with the train-only fit. Off: test is ranked by the train-only fit.
    refit: bool = False

    def __post_init__(self) -> None:  # fail before any model is loaded
        unknown = set(self.methods) - set(BASE_METHODS)
        if unknown:
            raise UserError(
                f"unknown method(s) {sorted(unknown)}; choose from {', '.join(BASE_METHODS)}"
            )
        if "hybrid" in self.methods and not set(self.methods) & set(ID_METHODS):
            raise UserError("the hybrid method needs at least one ID baseline among the methods")
        if not set(self.baseline_params) <= set(ID_METHODS):
            raise UserError(f"baseline_params must name ID baselines ({', '.join(ID_METHODS)})")
        if not set(self.untuned) <= set(ID_METHODS):
            raise UserError(f"untuned must name ID baselines ({', '.join(ID_METHODS)})")
        if self.compare_ks is not None and not set(self.compare_ks) <= set(self.ks):
            raise UserError(f"compare_ks {self.compare_ks} must be among ks {self.ks}")


def summarise(
    per_user: dict[str, dict[str, np.ndarray]],
    config: EvaluateConfig,
    groups: np.ndarray | None = None,
) -> dict[str, Any]:
    """Means, bootstrap CIs, and paired bootstrap tests of every method against the reference.

    ``groups`` (the user of each example) makes every interval and test resample users: a
    user's examples are correlated, and resampling them one by one overstates certainty.
    """
    metrics: dict[str, dict[str, float]] = {}
    ci: dict[str, dict[str, list[float]]] = {}
    for name, table in per_user.items():
        metrics[name], ci[name] = {}, {}
        for metric, values in table.items():
            interval = bootstrap_ci(
                values, n_resamples=config.bootstrap, seed=config.seed, groups=groups
            )
            metrics[name][metric] = float(values.mean())
            ci[name][metric] = [interval.low, interval.high]
    ref = config.reference or next(
        (
            m
            for m in per_user
            if m not in BASE_METHODS and not m.startswith(("history+", "hybrid+"))
        ),
        "history_text",
    )
    comparisons = []
    if ref in per_user:
        for name in per_user:
            if name == ref:
                continue
            cutoffs = config.compare_ks or (min(config.ks),)
            for metric in [f"{m}@{k}" for k in cutoffs for m in ("ndcg", "recall")]:
                test = paired_bootstrap(
                    per_user[name][metric],
                    per_user[ref][metric],
                    n_resamples=config.bootstrap,
                    seed=config.seed,
                    groups=groups,
                )
                comparisons.append(
                    {
                        "method": name,
                        "reference": ref,
                        "metric": metric,
                        "mean_diff": test.mean_diff,
                        "ci": [test.low, test.high],
                        "p_value": test.p_value,
                        # the smallest true difference this test finds with 80% power
                        "detectable": test.detectable(),
                    }
                )
    return {"metrics": metrics, "ci": ci, "reference": ref, "comparisons": comparisons}
