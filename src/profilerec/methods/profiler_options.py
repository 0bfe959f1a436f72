"""The options every profiler-training config shares (BLUE's GRPO, RFT's best-of-N SFT).

One dataclass base, so an option both trainers read (the model, the embedder, the history
format of the prompts, the embedding reward's catalogue, LoRA, bf16, validation sampling,
threads, seed, tracking) is declared, documented and checked once. A subclass changes a
shared option only by redeclaring its default (RFT's recipe differs from BLUE's in a few).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from profilerec.errors import UserError
from profilerec.profile.prompts import HistoryFormat

#: ``reward_variant`` values of the embedding reward (rewards/embedding.py).
REWARD_VARIANTS = ("logprob", "rank", "margin", "ndcg", "mrr")


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


def check_reward_variant(value: str) -> None:
    if value not in REWARD_VARIANTS:
        raise UserError(
            f"unknown reward_variant {value!r}; use {', '.join(REWARD_VARIANTS[:-1])} or mrr"
        )


def resolve_bf16(value: bool | str) -> bool:
    """``auto`` -> bf16 only where it runs natively: a GPU with bf16, or a CPU with AVX-512
    BF16 / AMX (``llm.hf.resolve_dtype``). Elsewhere bf16 is emulated and a training step
    is several times slower than float32, so a shared config must not turn it on blindly."""
    if isinstance(value, bool):
        return value
    if value != "auto":
        raise UserError(f"bf16 must be true, false or auto, not {value!r}")
    import torch

    from profilerec.llm.hf import resolve_dtype

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return resolve_dtype("auto", device) == "bfloat16"


@dataclass
class ProfilerRunOptions:
    """What the profiler-training configs (BLUE's, RFT's) share: the history format of their
    prompts (reused by ``profile --adapter RUN``), the reward's catalogue, LoRA, hardware and
    bookkeeping options, and a JSON-able dict of them all."""

    model: str | None = _f(
        None, "Profiler LLM: HF id or local folder; None = bundled SmolLM2-135M."
    )
    embedder: str = _f(
        "sentence-transformers", "Embedder spec for the embedding reward and validation."
    )
    template: str = _f("profile", "Prompt template name or file.")
    history_items: int = _f(
        5,
        "History items shown in training and validation prompts (most recent). Prefill of "
        "the prompt dominates a CPU step, so a compact history (few items, titles only) is "
        "the cheapest speed lever; `profile --adapter RUN` uses the run's format.",
    )
    history_item_chars: int = _f(40, "Characters of each history item's title in prompts.")
    history_snippet_chars: int = _f(0, "Characters of each review snippet (0 = titles only).")
    # --- data and reward ---
    train_examples: int = _f(0, "Training examples sampled from the train split (0 = all).")
    one_per_user: bool = _f(False, "Use at most one (the latest) training example per user.")
    n_positives: int = _f(5, "Positives per example (what they are depends on the method).")
    item_text_budget: int = _f(300, "Characters of item text embedded.")
    n_negatives: int = _f(
        0, "Negatives sampled per example for the embedding reward (0 = the whole catalogue)."
    )
    reward_temperature: float = _f(0.05, "Softmax temperature over cosine similarities.")
    reward_variant: str = _f("rank", "Embedding reward form: logprob, rank, margin, ndcg or mrr.")
    # --- LoRA and hardware ---
    learning_rate: float = _f(5e-4, "Learning rate of the LoRA parameters.")
    lora_r: int = _f(16, "LoRA rank.")
    lora_alpha: int = _f(32, "LoRA alpha.")
    lora_dropout: float = _f(0.05, "LoRA dropout.")
    lora_targets: tuple[str, ...] = _f(
        ("q_proj", "k_proj", "v_proj", "o_proj"), "Modules given LoRA."
    )
    bf16: bool | Literal["auto"] = _f(
        "auto",
        "bf16 autocast (float32 master weights): true, false, or auto = only where it is "
        "native (a GPU with bf16; a CPU with AVX-512 BF16 / AMX), since emulated bf16 is "
        "several times slower than float32. Resolved when the config is built, so the "
        "run's saved config records what it used.",
    )
    threads: int | None = _f(None, "torch threads (None = torch default).")
    # --- validation and bookkeeping ---
    eval_examples: int = _f(256, "Validation examples profiled (greedy) for NDCG@10 (0 = all).")
    eval_per_user: int = _f(
        1, "At most this many validation examples per user (0 = no cap): more users, less noise."
    )
    seed: int = _f(0, "Seed for sampling examples, negatives and generations.")
    report_to: str = _f(
        "none",
        "Also log TRL's figures to: none, or tensorboard, mlflow, wandb (comma-separated; "
        "methods/tracking.py says where each writes).",
    )

    def __post_init__(self) -> None:
        """Checks of the shared options, before any model loads; subclasses call it."""
        self.bf16 = resolve_bf16(self.bf16)
        check_reward_variant(self.reward_variant)
        from profilerec.methods.tracking import parse_report_to

        parse_report_to(self.report_to)  # an unknown backend fails before anything loads
        if self.history_items < 1 or self.history_item_chars < 1 or self.history_snippet_chars < 0:
            raise UserError(
                "history_items and history_item_chars must be >= 1, history_snippet_chars >= 0"
            )
        for name in ("n_negatives", "train_examples", "eval_examples", "eval_per_user"):
            if getattr(self, name) < 0:
                raise UserError(f"{name} must be >= 0, not {getattr(self, name)}")
        if self.n_positives < 1:
            raise UserError(f"n_positives must be at least 1, not {self.n_positives}")
        self.lora_targets = tuple(self.lora_targets)

    def use_bf16(self) -> bool:
        """Whether this run computes in bf16 (``auto`` is resolved when the config is built)."""
        return bool(self.bf16)

    def history_format(self) -> HistoryFormat:
        """How this run renders histories (training, validation and its test profiles)."""
        return HistoryFormat(
            max_items=self.history_items,
            item_chars=self.history_item_chars,
            snippet_chars=self.history_snippet_chars,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def future_items(self) -> int:
        """How far past each training prompt the run looks (``profile.exposure``): 0 when
        only the history reaches prompts and rewards; k when the target and k - 1 later
        training items do."""
        raise NotImplementedError
