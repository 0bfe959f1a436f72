"""The keys of a BLUE config's ``trl:`` block: which TRL ``GRPOConfig`` options it may set.

A key that is not a ``GRPOConfig`` field is an error naming the close matches; a field
profilerec derives from one of its own options (:data:`OWNED`) is an error naming that
option: two spellings of one setting would disagree. Checked when the config is built
(``methods/blue/config.py``) and again when ``methods/blue/grpo.py`` builds the
``GRPOConfig``; this module sits below both, so neither imports the other to check.
"""

from __future__ import annotations

import dataclasses
import difflib
from functools import cache
from typing import Any

from profilerec.errors import UserError

#: GRPOConfig fields profilerec sets from its own options: field -> the option to set.
OWNED: dict[str, str] = {
    "output_dir": "--out (checkpoints go to RUN/checkpoints)",
    "use_cpu": "nothing (the GPU is used when there is one)",
    "bf16": "bf16",
    "num_generations": "num_generations",
    "per_device_train_batch_size": "micro_batch_size",
    "gradient_accumulation_steps": "prompts_per_step and micro_batch_size",
    "max_completion_length": "max_completion_length",
    "temperature": "temperature",
    "beta": "beta",
    "learning_rate": "learning_rate",
    "max_steps": "max_steps",
    "scale_rewards": "scale_rewards",
    "reward_weights": "weight_embedding, weight_next_item, weight_shaping, weight_baseline",
    "save_steps": "save_every",
    "report_to": "report_to",
    "seed": "seed",
    "disable_tqdm": "nothing (progress follows the command)",
}


@cache
def grpo_fields() -> frozenset[str]:
    """The names ``GRPOConfig(...)`` accepts, read from TRL itself (so a TRL upgrade's new
    options are reachable without a profilerec release)."""
    from trl import GRPOConfig

    return frozenset(f.name for f in dataclasses.fields(GRPOConfig) if f.init)


def check_trl_options(options: dict[str, Any]) -> None:
    """Refuse, in one line, a ``trl:`` key TRL does not know or that profilerec owns."""
    if not isinstance(options, dict):
        raise UserError(f"trl must be a mapping of GRPOConfig option: value, not {options!r}")
    known = grpo_fields()
    for key in options:
        if key in OWNED:
            raise UserError(f"trl.{key} is set by profilerec from {OWNED[key]}; set that instead")
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UserError(f"trl.{key} is not a TRL GRPOConfig option{hint}")


def nest_dotted(sets: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """``--set trl.max_grad_norm=0.5`` (``{"trl.max_grad_norm": 0.5}``) folded into one
    ``trl`` mapping, merged over the ``trl:`` block of ``config`` (a YAML file's options), so
    a flag changes one TRL option instead of replacing the file's whole block."""
    dotted = {k[4:]: v for k, v in sets.items() if k.startswith("trl.")}
    if not dotted:
        return sets
    rest = {k: v for k, v in sets.items() if not k.startswith("trl.")}
    base = rest.get("trl", (config or {}).get("trl")) or {}
    if not isinstance(base, dict):
        raise UserError(f"trl must be a mapping of GRPOConfig option: value, not {base!r}")
    return {**rest, "trl": {**base, **dotted}}
