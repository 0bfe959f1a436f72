"""The TRL ``GRPOConfig`` of a BLUE run: profilerec's options, then the user's ``trl:`` block.

BLUE names the GRPO options it has opinions about (rollouts, lengths, KL, learning rate,
steps); every other ``GRPOConfig`` field (``max_grad_norm``, ``lr_scheduler_type``,
``use_vllm``, ``gradient_checkpointing``, ...) is reachable through the config's ``trl:``
mapping (YAML ``trl: {max_grad_norm: 0.5}`` or ``--set trl.max_grad_norm=0.5``) instead of
being copied here one by one. Precedence, so no setting is silently dropped:

- a key that is not a ``GRPOConfig`` field is an error naming the close matches, and a
  field profilerec derives from one of its own options (``trl_options.OWNED``) is an error
  naming that option (both checked in ``methods/blue/trl_options.py``);
- any other field the user sets wins over profilerec's default for it (:data:`DEFAULTS`).

Keys are checked when the config is built and values when the ``GRPOConfig`` is, both
before any model loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilerec.errors import UserError
from profilerec.methods.blue.trl_options import check_trl_options

if TYPE_CHECKING:
    from trl import GRPOConfig

    from profilerec.methods.blue.config import BlueConfig

#: profilerec's choices for fields it does not own; a ``trl:`` entry replaces any of them.
DEFAULTS: dict[str, Any] = {
    "gradient_checkpointing": False,  # tiny CPU models: recomputation costs more than it saves
    "use_vllm": False,
    "logging_steps": 1,  # train_log.jsonl and the trackers see every step
    "save_total_limit": 2,  # the last checkpoint to resume from, and one before it
    "dataloader_num_workers": 0,
}


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
