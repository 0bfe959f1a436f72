"""BLUE training configuration (TRL style: one dataclass, every field with help text)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from profilerec.configs import from_mapping, read_yaml_options
from profilerec.errors import UserError
from profilerec.profile.prompts import HistoryFormat

RewardKind = Literal["blue", "rlpf", "judge"]


#: ``reward_variant`` values of the embedding reward (methods/rewards/embedding.py).
REWARD_VARIANTS = ("logprob", "rank", "margin", "ndcg", "mrr")


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


def check_reward_variant(value: str) -> None:
    if value not in REWARD_VARIANTS:
        raise UserError(
            f"unknown reward_variant {value!r}; use {', '.join(REWARD_VARIANTS[:-1])} or mrr"
        )


class ProfilerRunOptions:
    """What the profiler-training configs (BLUE's, RFT's) share: the history format of their
    prompts (reused by ``profile --adapter RUN``) and a JSON-able dict of their options."""

    history_items: int
    history_item_chars: int
    history_snippet_chars: int

    def history_format(self) -> HistoryFormat:
        """How this run renders histories (training, validation and its test profiles)."""
        return HistoryFormat(
            max_items=self.history_items,
            item_chars=self.history_item_chars,
            snippet_chars=self.history_snippet_chars,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def future_items(self) -> int:
        """How far past each training prompt the run looks (``profile.exposure``): 0 when
        only the history reaches prompts and rewards; k when the target and k - 1 later
        training items do."""
        raise NotImplementedError


@dataclass
class BlueConfig(ProfilerRunOptions):
    """Train the profiler LLM with GRPO on an embedding-space reward (BLUE) or a baseline reward."""

    reward: RewardKind = _f("blue", "blue (embedding + next-item text + shaping), rlpf, or judge.")
    model: str | None = _f(
        None, "Profiler LLM: HF id or local folder; None = bundled SmolLM2-135M."
    )
    embedder: str = _f(
        "sentence-transformers", "Embedder spec for the embedding reward and validation."
    )
    template: str = _f("profile", "Prompt template name or file.")
    history_items: int = _f(
        10,
        "History items shown in training and validation prompts (most recent). Prefill of "
        "prompt + rollout dominates a CPU step, so a compact history (fewer items, titles "
        "only) is the cheapest speed lever; `profile --adapter RUN` uses the run's format.",
    )
    history_item_chars: int = _f(60, "Characters of each history item's title in prompts.")
    history_snippet_chars: int = _f(40, "Characters of each review snippet (0 = titles only).")
    # --- data ---
    train_examples: int = _f(256, "Training examples sampled from the train split (0 = all).")
    one_per_user: bool = _f(True, "Use at most one (the latest) training example per user.")
    n_positives: int = _f(
        1, "Positives per example: the target plus the user's next training items."
    )
    positives_from: str = _f(
        "next",
        "next: the target and the user's next training items (BLUE). history: the example's "
        "last n_positives history items, ranked against the catalogue minus the rest of the "
        "history: a coverage reward that uses no future item, so no item-specific luck. "
        "older: the n_positives history items just before those the prompt shows (examples "
        "with no older history are left out): coverage the profile cannot earn by copying "
        "the prompt's titles.",
    )
    item_text_budget: int = _f(300, "Characters of item text embedded.")
    # --- rewards ---
    n_negatives: int = _f(
        128, "Negatives sampled per example for the embedding reward (paper: 128)."
    )
    reward_temperature: float = _f(0.05, "Softmax temperature over cosine similarities.")
    reward_variant: str = _f(
        "logprob", "Embedding reward form: logprob, rank, margin, ndcg or mrr."
    )
    weight_embedding: float = _f(1.0, "Weight of the embedding reward.")
    weight_next_item: float = _f(0.2, "Weight of the text-space next-item reward (0 disables).")
    weight_shaping: float = _f(1.0, "Weight of the shaping penalties.")
    weight_baseline: float = _f(1.0, "Weight of the rlpf / judge reward when that is the reward.")
    max_words: int = _f(80, "Profiles longer than this many words are penalised.")
    # --- GRPO (paper defaults, CPU-sized lengths) ---
    num_generations: int = _f(8, "Rollouts per prompt (paper: 8).")
    prompts_per_step: int = _f(2, "Prompts per optimisation step.")
    micro_batch_size: int = _f(
        4,
        "Rollouts per forward/backward pass (gradient accumulation makes up the step). "
        "Full-vocabulary logits dominate memory: 16 rollouts in one pass peaked near 20 GB "
        "with SmolLM2's 49k vocabulary.",
    )
    temperature: float = _f(1.0, "Sampling temperature of rollouts (paper: 1.0).")
    beta: float = _f(0.01, "KL coefficient against the base model (paper: 0.01).")
    learning_rate: float = _f(5e-5, "Learning rate of the LoRA parameters.")
    max_steps: int = _f(40, "Optimisation steps.")
    max_completion_length: int = _f(64, "Maximum new tokens per rollout.")
    scale_rewards: str = _f("group", "GRPO reward scaling: group, batch or none.")
    bf16: bool = _f(
        False, "bf16 autocast for the policy's forward/backward (float32 master weights)."
    )
    lora_r: int = _f(16, "LoRA rank.")
    lora_alpha: int = _f(32, "LoRA alpha.")
    lora_dropout: float = _f(0.05, "LoRA dropout.")
    lora_targets: tuple[str, ...] = _f(
        ("q_proj", "k_proj", "v_proj", "o_proj"), "Modules given LoRA."
    )
    # --- trainable-embedding condition ---
    trainable_embedder: bool = _f(False, "Fine-tune the embedder (MNRL) between GRPO rounds.")
    embedder_every: int = _f(10, "GRPO steps per round before each embedder fine-tuning.")
    embedder_examples: int = _f(128, "Training examples profiled for each embedder round.")
    # --- validation / checkpoints ---
    eval_every: int = _f(10, "Validation NDCG@10 every N steps (0 = only at the start and end).")
    eval_examples: int = _f(64, "Validation examples profiled (greedy) for NDCG@10.")
    eval_per_user: int = _f(
        0, "At most this many validation examples per user (0 = no cap): more users, less noise."
    )
    eval_disjoint_users: bool = _f(
        False,
        "Validate only on users none of whose examples were trained on. A step picked on the "
        "training users' later examples rewards memorising those users; on a split whose users "
        "appear in every period (a temporal split such as Industrial's) this is the held-out set.",
    )
    save_every: int = _f(10, "Checkpoint every N steps (resumable).")
    threads: int | None = _f(None, "torch threads (None = torch default).")
    seed: int = _f(0, "Seed for sampling examples, negatives and rollouts.")
    report_to: str = _f(
        "none",
        "Also log TRL's figures to: none, or tensorboard, mlflow, wandb (comma-separated; "
        "methods/tracking.py says where each writes).",
    )

    def future_items(self) -> int:
        if self.reward != "blue":
            return 1  # RLPF and the judge score against the target
        future = self.n_positives if self.positives_from == "next" else 0
        if self.weight_next_item or self.trainable_embedder:
            future = max(future, 1)  # the target's text is scored, or trained on
        return future

    def __post_init__(self) -> None:
        if self.reward not in ("blue", "rlpf", "judge"):
            raise UserError(f"unknown reward {self.reward!r}; choose blue, rlpf or judge")
        if self.num_generations < 2:
            raise UserError("GRPO needs num_generations >= 2")
        total = self.num_generations * self.prompts_per_step
        if self.micro_batch_size < 1 or total % min(self.micro_batch_size, total):
            raise UserError(
                f"micro_batch_size must divide num_generations x prompts_per_step ({total})"
            )
        if self.max_steps < 1 or self.prompts_per_step < 1:
            raise UserError("max_steps and prompts_per_step must be >= 1")
        check_reward_variant(self.reward_variant)
        from profilerec.methods.tracking import parse_report_to

        parse_report_to(self.report_to)  # an unknown backend fails before anything loads
        if self.positives_from not in ("next", "history", "older"):
            raise UserError(
                f"unknown positives_from {self.positives_from!r}; use next, history or older"
            )
        if self.positives_from != "next" and self.reward != "blue":
            raise UserError(
                f"positives_from: {self.positives_from} is a form of BLUE's embedding reward only; {self.reward} "
                "scores against the next item: --set positives_from=next"
            )
        if self.n_positives < 1:
            raise UserError("n_positives must be >= 1")
        if self.n_negatives < 0:
            raise UserError("n_negatives must be >= 0 (0 = the whole catalogue)")
        if self.eval_examples < 0 or self.eval_per_user < 0:
            raise UserError("eval_examples and eval_per_user must be >= 0 (0 = no cap)")
        if self.history_items < 1 or self.history_item_chars < 1 or self.history_snippet_chars < 0:
            raise UserError(
                "history_items and history_item_chars must be >= 1, history_snippet_chars >= 0"
            )
        self.lora_targets = tuple(self.lora_targets)

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> BlueConfig:
        """A config from a YAML file (its ``blue:`` block if it has one) plus overrides."""
        return from_mapping(cls, read_yaml_options(Path(path), "blue"), str(path), **overrides)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str, **overrides: Any) -> BlueConfig:
        """A config from option: value pairs (a YAML file's, or ``--set`` flags)."""
        return from_mapping(cls, data, source, **overrides)
