"""PtE experiment: each backbone ID-only, with PtE profiles, and the ablations, on every slice.

Per backbone X (``sasrec``, ``dreamrec``) the methods are

- ``X``: ID-only (the reference of every comparison below);
- ``X+pte``: the GRPO-selected final-round user and item profiles;
- ``X+pte_user_only`` / ``X+pte_item_only``: one side of the profiles;
- ``X+pte_single_pass``: round-0 profiles (no closed-loop refinement);
- ``X+pte_no_grpo``: candidate 0 of the final round (no group-relative selection);
- ``X+random``: random unit vectors of the same shape in place of the profiles, a control:
  an extra projection changes the optimisation by itself, so a gain over ID-only counts
  for the profiles only where ``X+pte`` also beats ``X+random``.

Writes ``metrics.json`` / ``ranks.parquet`` (overall, the evaluate stage's format) and
``slices.json`` (the same per slice: cold-start users, long-tail items, long-tail users).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.evaluate.results import (
    SLICES_FILE,
    ranks_frame,
    sliced_groups,
    summarise_groups,
    write_results,
)
from profilerec.evaluate.slices import evaluate_slice_masks, slice_masks
from profilerec.evaluate.stage import EvaluateConfig
from profilerec.methods.pte.backbones import (
    CONFIGS,
    PtEBackboneConfig,
    evaluate_pte_backbone,
    train_pte_backbone,
)
from profilerec.methods.pte.profiling import selected_vectors

SPLIT = "test"
#: Ablation name -> (which profiles, item side on, user side on).
ABLATIONS: dict[str, tuple[str, bool, bool]] = {
    "pte_user_only": ("selected", False, True),
    "pte_item_only": ("selected", True, False),
    "pte_single_pass": ("round0", True, True),
    "pte_no_grpo": ("first", True, True),
}


@dataclass
class PtERunConfig:
    """What ``profilerec train --method pte`` trains and how it slices the test split."""

    item_fusion: str = field(
        default="add", metadata={"help": "How item profiles enter: init, add or replace."}
    )
    ablations: bool | list[str] = field(
        default=True,
        metadata={
            "help": "Also train the ablations: true (all of user-only, item-only, single-pass, "
            "no-GRPO), false, or a list of their names (pte_user_only, ...)."
        },
    )
    backbone_params: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={
            "help": "Per backbone, settings of its config (e.g. the ones evaluate tuned on "
            "validation: {sasrec: {lr: 0.003, layers: 1}}); every variant of it uses them."
        },
    )
    random_control: bool = field(
        default=True, metadata={"help": "Also train with random vectors in place of profiles."}
    )
    epochs: int | None = field(
        default=None, metadata={"help": "Epochs of every backbone (None = its default)."}
    )
    cold_user_max: int = field(
        default=5, metadata={"help": "Cold-start users: at most this many training interactions."}
    )
    tail_item_frac: float = field(
        default=0.8, metadata={"help": "Long-tail items: this bottom share by training popularity."}
    )
    tail_user_frac: float = field(
        default=0.8, metadata={"help": "Long-tail users: this bottom share by training activity."}
    )
    bootstrap: int = field(default=1000, metadata={"help": "Bootstrap resamples for the CIs."})
    seed: int = field(default=0, metadata={"help": "Seed of backbones, controls and bootstrap."})

    def __post_init__(self) -> None:
        if self.item_fusion not in ("init", "add", "replace"):
            raise UserError(f"item_fusion must be init, add or replace, got {self.item_fusion!r}")
        if self.epochs is not None and self.epochs < 1:
            raise UserError(f"epochs must be at least 1, got {self.epochs}")
        unknown = [a for a in self.ablation_names() if a not in ABLATIONS]
        if unknown:
            raise UserError(f"unknown ablation {unknown[0]!r}; choose from {', '.join(ABLATIONS)}")
        strangers = [b for b in self.backbone_params if b not in CONFIGS]
        if strangers:
            raise UserError(
                f"backbone_params names {strangers[0]!r}; choose from {', '.join(CONFIGS)}"
            )

    def ablation_names(self) -> list[str]:
        """The ablations to train, in ``ABLATIONS`` order when all are asked for."""
        if isinstance(self.ablations, bool):
            return list(ABLATIONS) if self.ablations else []
        return list(self.ablations)


def _random_like(vecs: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.standard_normal(vecs.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def run_pte(
    ds: Dataset,
    out_dir: str | Path,
    *,
    backbones: list[str],
    profiles_dir: str | Path,
    embedder: Embedder,
    config: PtERunConfig | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train and test every method of the module docstring; returns metrics.json's dict."""
    config = config or PtERunConfig()
    if not backbones:
        raise UserError("name at least one backbone (sasrec, dreamrec)")
    unknown = [b for b in backbones if b not in CONFIGS]
    if unknown:
        raise UserError(f"unknown backbone {unknown[0]!r} for pte; choose sasrec or dreamrec")
    ablations = config.ablation_names()
    vectors = {"selected": selected_vectors(ds, profiles_dir, embedder, "selected")}
    for which in sorted({ABLATIONS[name][0] for name in ablations} - {"selected"}):
        vectors[which] = selected_vectors(ds, profiles_dir, embedder, which)  # type: ignore[arg-type]
    users, items = vectors["selected"]
    methods: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {
        "": (None, None),
        "+pte": (users, items),
    }
    for name in ablations:
        which, item_on, user_on = ABLATIONS[name]
        u, i = vectors[which]
        methods[f"+{name}"] = (u if user_on else None, i if item_on else None)
    if config.random_control:
        methods["+random"] = (
            _random_like(users, config.seed),
            _random_like(items, config.seed + 1),
        )

    examples = ds.split(SPLIT)
    per_user: dict[str, dict[str, np.ndarray]] = {}
    ranks, seconds, groups = [], {}, {}
    for backbone in backbones:
        params = {"seed": config.seed, **config.backbone_params.get(backbone, {})}
        try:
            bcfg = CONFIGS[backbone](**params)  # type: ignore[call-arg]
        except TypeError as err:
            raise UserError(f"backbone_params of {backbone}: {err}") from None
        if config.epochs:
            bcfg = dataclasses.replace(bcfg, epochs=config.epochs)
        groups[backbone] = [backbone + suffix for suffix in methods if suffix]
        for suffix, (u, i) in methods.items():
            name = backbone + suffix
            cfg = PtEBackboneConfig(
                backbone=backbone,  # type: ignore[arg-type]
                item_fusion="none" if i is None else config.item_fusion,  # type: ignore[arg-type]
                use_user_profiles=u is not None,
                backbone_config=bcfg,
            )
            start = time.perf_counter()
            model = train_pte_backbone(ds, cfg, user_vecs=u, item_vecs=i, progress=progress)
            seconds[name] = round(time.perf_counter() - start, 2)
            per_user[name], res = evaluate_pte_backbone(model, ds, SPLIT, with_ranks=True)
            ranks.append(ranks_frame(ds, examples, name, res))

    eval_cfg = EvaluateConfig(split=SPLIT, bootstrap=config.bootstrap, seed=config.seed)
    users_of = examples["user_id"].to_numpy()
    result = summarise_groups(per_user, groups, eval_cfg, users_of)
    # evaluate's slices (cold and long-tail targets, short histories) and PtE's own (cold-start
    # and long-tail users); the two define "tail_items" the same way
    masks = {
        **evaluate_slice_masks(ds, examples),
        **slice_masks(
            ds,
            examples,
            cold_user_max=config.cold_user_max,
            tail_item_frac=config.tail_item_frac,
            tail_user_frac=config.tail_user_frac,
        ),
    }
    slices = sliced_groups(per_user, groups, masks, eval_cfg, users_of)
    result.update(
        split=SPLIT,
        n_examples=examples.height,
        n_items=len(ds.item_ids),
        embedder=embedder.model_id,
        config={"pte": dataclasses.asdict(config), "backbones": backbones},
        profiles=str(profiles_dir),
        train_seconds=seconds,
        slices={name: s["n"] for name, s in slices.items()},
        resampled="users",
    )
    write_results(out_dir, result, ranks)
    (Path(out_dir) / SLICES_FILE).write_text(json.dumps(slices, indent=2))
    return result
