"""Rejection-sampling fine-tuning configuration (one dataclass, every field with help text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from profilerec.errors import UserError
from profilerec.methods.profiler_options import ProfilerRunOptions


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class RFTConfig(ProfilerRunOptions):
    """Best-of-N profiles by BLUE's embedding reward, distilled into the profiler with LoRA SFT.

    The CPU-friendly alternative to GRPO named in STACK.md (rejection sampling / expert
    iteration): each round samples N profiles per training example, keeps the one whose
    embedding ranks the user's next training items highest *only where it beats the
    profile the model writes greedily*, and fine-tunes on those winners. Generation is the
    whole cost, and it is batched, so a round costs about (N + 1) profile passes.
    """

    # Options shared with BLUE (model, embedder, template, item_text_budget,
    # reward_temperature, LoRA, bf16, threads, seed, report_to, the history format) are
    # ProfilerRunOptions'; those below are RFT's own or RFT's own default of a shared one.
    # --- data and reward ---
    train_examples: int = _f(192, "Training examples sampled from the train split (0 = all).")
    n_positives: int = _f(
        3,
        "Positives per example: the target plus the user's next training items. One "
        "positive made best-of-N measure luck on one item (STACK.md's probe).",
    )
    reward_variant: str = _f("mrr", "Embedding reward form: logprob, rank, margin, ndcg or mrr.")
    # --- sampling and selection ---
    num_samples: int = _f(4, "Sampled profiles per example, besides the greedy one.")
    sample_temperature: float = _f(0.8, "Sampling temperature of the candidates.")
    top_p: float = _f(0.95, "Nucleus mass of the candidates.")
    min_gain: float = _f(
        0.0,
        "Keep an example only if its best sample's reward beats the greedy profile's by more "
        "than this; otherwise the model already writes what wins and the example is dropped.",
    )
    max_new_tokens: int = _f(48, "Maximum tokens per profile.")
    gen_batch_size: int = _f(16, "Prompts per generation batch (also the resume unit).")
    rounds: int = _f(1, "Sample-select-train rounds (each samples from the latest adapter).")
    # --- where the candidates are generated (``--engine``, as ``profile``'s) ---
    engine: str = _f(
        "local",
        "Where each round's candidates are generated: local (this process) or ray (a Ray "
        "Data actor pool; the round's policy is saved to rounds/round-N/policy/ and each "
        "actor loads the base model with it merged; needs the ray extra).",
    )
    workers: int = _f(2, "engine ray: actors in the pool.")
    ray_address: str | None = _f(
        None, "engine ray: join this cluster (auto, ray://HOST:10001); None starts a local Ray."
    )
    worker_gpus: float = _f(0.0, "engine ray: GPUs each actor reserves (e.g. 1 on GPU nodes).")
    # --- supervised fine-tuning (TRL SFTTrainer + PEFT LoRA) ---
    epochs: int = _f(2, "SFT epochs over each round's winners.")
    learning_rate: float = _f(2e-4, "LoRA learning rate.")
    batch_size: int = _f(8, "Winners per SFT step.")
    # --- validation ---
    eval_examples: int = _f(0, "Validation examples profiled greedily after each round (0 = all).")
    eval_per_user: int = _f(
        0, "At most this many validation examples per user (0 = no cap): more users, less noise."
    )
    report_to: str = _f(
        "none",
        "Also log each round's SFT figures to: none, or tensorboard, mlflow, wandb "
        "(comma-separated; TensorBoard in RUN/tensorboard/round_N, methods/tracking.py).",
    )

    def future_items(self) -> int:
        return self.n_positives  # candidates are ranked by the target and later positives

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in (
            "num_samples",
            "max_new_tokens",
            "gen_batch_size",
            "rounds",
            "epochs",
            "batch_size",
        ):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, not {getattr(self, name)}")
        if not self.learning_rate > 0 or not self.sample_temperature > 0:
            raise UserError("learning_rate and sample_temperature must be > 0")
        if not 0 < self.top_p <= 1:
            raise UserError(f"top_p must be in (0, 1], not {self.top_p}")
        self.check_engine()

    def check_engine(self) -> None:
        """The engine options, as ``--engine``/``--workers``/... are checked for ``profile``."""
        if self.engine not in ENGINES:
            raise UserError(f"engine must be local or ray, not {self.engine!r}")
        if self.workers < 1:
            raise UserError(f"workers must be at least 1, not {self.workers}")
        if not 0 <= self.worker_gpus < float("inf"):
            raise UserError(f"worker_gpus must be a finite number >= 0, not {self.worker_gpus}")
        if self.engine == "local" and (self.ray_address is not None or self.worker_gpus):
            raise UserError("ray_address and worker_gpus need engine ray")
        self.worker_gpus = float(self.worker_gpus)  # YAML's 1 saved as 1.0, as the default


#: Where a round's candidates are generated.
ENGINES = ("local", "ray")
#: Options that may change when a run is resumed: they do not change what is learnt (the
#: engine only moves generation: the part files and their keys are the same on both).
RESUMABLE = ("rounds", "threads", "report_to", "engine", "workers", "ray_address", "worker_gpus")
