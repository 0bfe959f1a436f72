"""The TRL ``GRPOConfig`` of a BLUE run: profilerec's options, then the user's ``trl:`` block.

BLUE names the GRPO options it has opinions about (rollouts, lengths, KL, learning rate,
steps); every other ``GRPOConfig`` field (``max_grad_norm``, ``lr_scheduler_type``,
``use_vllm``, ``gradient_checkpointing``, ...) is reachable through the config's ``trl:``
mapping (YAML ``trl: {max_grad_norm: 0.5}`` or ``--set trl.max_grad_norm=0.5``) instead of
being copied here one by one. Precedence, so no setting is silently dropped:

- a key that is not a ``GRPOConfig`` field is an error naming the close matches;
- a field profilerec derives from one of its own options (:data:`OWNED`) is an error naming
  that option: two spellings of one setting would disagree;
- any other field the user sets wins over profilerec's default for it (:data:`DEFAULTS`).

Keys are checked when the config is built and values when the ``GRPOConfig`` is, both
before any model loads.
"""

from __future__ import annotations

import dataclasses
import difflib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilerec.errors import UserError

if TYPE_CHECKING:
    from trl import GRPOConfig

    from profilerec.methods.blue.config import BlueConfig

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

#: profilerec's choices for fields it does not own; a ``trl:`` entry replaces any of them.
DEFAULTS: dict[str, Any] = {
    "gradient_checkpointing": False,  # tiny CPU models: recomputation costs more than it saves
    "use_vllm": False,
    "logging_steps": 1,  # train_log.jsonl and the trackers see every step
    "save_total_limit": 2,  # the last checkpoint to resume from, and one before it
    "dataloader_num_workers": 0,
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


def grpo_args(
    config: BlueConfig,
    run_dir: str | Path,
    *,
    report_to: list[str] | str,
    use_cpu: bool,
    progress: bool = True,
) -> GRPOConfig:
    """The ``GRPOConfig`` a BLUE run trains with (``reward_weights`` is set by the trainer
    once its reward functions exist); a value TRL refuses is a one-line error."""
    from trl import GRPOConfig

    check_trl_options(config.trl)
    total = config.num_generations * config.prompts_per_step
    micro = min(config.micro_batch_size, total)
    ours: dict[str, Any] = {
        "output_dir": str(Path(run_dir) / "checkpoints"),
        "use_cpu": use_cpu,
        "bf16": config.use_bf16(),
        "num_generations": config.num_generations,
        "per_device_train_batch_size": micro,
        "gradient_accumulation_steps": total // micro,
        "max_completion_length": config.max_completion_length,
        "temperature": config.temperature,
        "beta": config.beta,
        "learning_rate": config.learning_rate,
        "max_steps": config.max_steps,
        "scale_rewards": config.scale_rewards,
        "save_steps": config.save_every,
        "report_to": report_to,
        "seed": config.seed,
        "disable_tqdm": not progress,
    }
    try:
        return GRPOConfig(**{**DEFAULTS, **config.trl, **ours})
    except (ValueError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"trl: TRL refused the GRPO options ({first})") from None
