"""BLUE training configuration (TRL style: one dataclass, every field with help text).

The defaults are the recommended recipe (examples/blue.yaml: the coverage reward, compact
prompts, 4 users x 4 rollouts, no KL); examples/blue_paper.yaml is the paper's. Options
shared with RFT live in :class:`ProfilerRunOptions`; any other TRL ``GRPOConfig`` field is
set through ``trl:`` (methods/blue/trl_options.py checks the keys, grpo.py builds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from profilerec.configs import from_mapping, read_yaml_options
from profilerec.errors import UserError
from profilerec.methods.blue.trl_options import check_trl_options
from profilerec.methods.profiler_options import (
    REWARD_VARIANTS,
    ProfilerRunOptions,
    check_reward_variant,
)

RewardKind = Literal["blue", "rlpf", "judge"]


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


__all__ = [
    "DEFAULTS_BEFORE_37",
    "REWARD_VARIANTS",
    "BlueConfig",
    "ProfilerRunOptions",
    "RewardKind",
    "check_reward_variant",
]


#: BlueConfig's defaults before issue 37 made them the recommended recipe (the paper's
#: settings at CPU-sized lengths). A run saved before then that lacks one of these options
#: (it predates the option) ran with this value, not today's default: the trainer fills a
#: saved config's missing keys from here, so such a run still resumes.
DEFAULTS_BEFORE_37: dict[str, Any] = {
    "history_items": 10,
    "history_item_chars": 60,
    "history_snippet_chars": 40,
    "train_examples": 256,
    "one_per_user": True,
    "n_positives": 1,
    "positives_from": "next",
    "n_negatives": 128,
    "reward_variant": "logprob",
    "weight_next_item": 0.2,
    "weight_shaping": 1.0,
    "num_generations": 8,
    "prompts_per_step": 2,
    "micro_batch_size": 4,
    "beta": 0.01,
    "learning_rate": 5e-5,
    "max_steps": 40,
    "max_completion_length": 64,
    "bf16": False,
    "eval_every": 10,
    "eval_examples": 64,
    "eval_per_user": 0,
    "save_every": 10,
}


@dataclass
class BlueConfig(ProfilerRunOptions):
    """Train the profiler LLM with GRPO on an embedding-space reward (BLUE) or a baseline reward."""

    reward: RewardKind = _f("blue", "blue (embedding + next-item text + shaping), rlpf, or judge.")
    positives_from: str = _f(
        "auto",
        "auto: history for reward blue, next for rlpf and judge (which score against the "
        "next item). next: the target and the user's next training items (BLUE as the "
        "paper sets it). history: the example's last n_positives history items, ranked "
        "against the catalogue minus the rest of the history: a coverage reward that uses "
        "no future item, so no item-specific luck. older: the n_positives history items "
        "just before those the prompt shows (examples with no older history are left out): "
        "coverage the profile cannot earn by copying the prompt's titles.",
    )
    # --- rewards (shared ones: ProfilerRunOptions) ---
    weight_embedding: float = _f(1.0, "Weight of the embedding reward.")
    weight_next_item: float = _f(
        0.0, "Weight of the text-space next-item reward (0 disables; paper: 0.2)."
    )
    weight_shaping: float = _f(0.0, "Weight of the shaping penalties (paper: 1.0).")
    weight_baseline: float = _f(1.0, "Weight of the rlpf / judge reward when that is the reward.")
    max_words: int = _f(80, "Profiles longer than this many words are penalised.")
    # --- GRPO (CPU-sized; any other GRPOConfig field: trl) ---
    num_generations: int = _f(4, "Rollouts per prompt (paper: 8).")
    prompts_per_step: int = _f(4, "Prompts per optimisation step.")
    micro_batch_size: int = _f(
        8,
        "Rollouts per forward/backward pass (gradient accumulation makes up the step). "
        "Full-vocabulary logits dominate memory: 16 rollouts in one pass peaked near 20 GB "
        "with SmolLM2's 49k vocabulary.",
    )
    temperature: float = _f(1.0, "Sampling temperature of rollouts (paper: 1.0).")
    beta: float = _f(
        0.0, "KL coefficient against the base model (0 skips the reference pass; paper: 0.01)."
    )
    max_steps: int = _f(75, "Optimisation steps.")
    max_completion_length: int = _f(48, "Maximum new tokens per rollout.")
    scale_rewards: str = _f("group", "GRPO reward scaling: group, batch or none.")
    trl: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "Any other TRL GRPOConfig option, passed through (e.g. "
            "{max_grad_norm: 0.5}; --set trl.max_grad_norm=0.5). Keys are checked against "
            "GRPOConfig; one profilerec sets from its own options is refused "
            "(methods/blue/grpo.py)."
        },
    )
    # --- trainable-embedding condition ---
    trainable_embedder: bool = _f(False, "Fine-tune the embedder (MNRL) between GRPO rounds.")
    embedder_every: int = _f(10, "GRPO steps per round before each embedder fine-tuning.")
    embedder_examples: int = _f(128, "Training examples profiled for each embedder round.")
    # --- validation / checkpoints (shared ones: ProfilerRunOptions) ---
    eval_every: int = _f(25, "Validation NDCG@10 every N steps (0 = only at the start and end).")
    eval_disjoint_users: bool = _f(
        False,
        "Validate only on users none of whose examples were trained on. A step picked on the "
        "training users' later examples rewards memorising those users; on a split whose users "
        "appear in every period (a temporal split such as Industrial's) this is the held-out set.",
    )
    save_every: int = _f(5, "Checkpoint every N steps (resumable).")

    def future_items(self) -> int:
        if self.reward != "blue":
            return 1  # RLPF and the judge score against the target
        future = self.n_positives if self.positives_from == "next" else 0
        if self.weight_next_item or self.trainable_embedder:
            future = max(future, 1)  # the target's text is scored, or trained on
        return future

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.reward not in ("blue", "rlpf", "judge"):
            raise UserError(f"unknown reward {self.reward!r}; choose blue, rlpf or judge")
        if self.positives_from == "auto":
            self.positives_from = "history" if self.reward == "blue" else "next"
        if self.num_generations < 2:
            raise UserError("GRPO needs num_generations >= 2")
        total = self.num_generations * self.prompts_per_step
        if self.micro_batch_size < 1 or total % min(self.micro_batch_size, total):
            raise UserError(
                f"micro_batch_size must divide num_generations x prompts_per_step ({total})"
            )
        if self.max_steps < 1 or self.prompts_per_step < 1:
            raise UserError("max_steps and prompts_per_step must be >= 1")
        if self.positives_from not in ("next", "history", "older"):
            raise UserError(
                f"unknown positives_from {self.positives_from!r}; use auto, next, history or older"
            )
        if self.positives_from != "next" and self.reward != "blue":
            raise UserError(
                f"positives_from: {self.positives_from} is a form of BLUE's embedding reward "
                f"only; {self.reward} scores against the next item: --set positives_from=next"
            )
        if self.trl:
            check_trl_options(self.trl)  # imports TRL: only when a trl option is given

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> BlueConfig:
        """A config from a YAML file (its ``blue:`` block if it has one) plus overrides."""
        return from_mapping(cls, read_yaml_options(Path(path), "blue"), str(path), **overrides)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str, **overrides: Any) -> BlueConfig:
        """A config from option: value pairs (a YAML file's, or ``--set`` flags)."""
        return from_mapping(cls, data, source, **overrides)
