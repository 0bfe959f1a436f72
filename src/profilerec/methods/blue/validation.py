"""Validation during training: greedy profiles of validation users -> NDCG@10; keep the best adapter."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from transformers import TrainerCallback

from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages
from profilerec.llm.hf import TransformersGenerator
from profilerec.profile.finite import check_loss_finite, check_model_finite, diverged
from profilerec.profile.quality import sameness
from profilerec.retrieval import MRR, NDCG, Recall, rank_by_embeddings

#: Folder of a run holding each validation's greedy profiles and target ranks.
VALIDATION_DIR = "validation"


def validation_sample(valid: pl.DataFrame, n: int, per_user: int, seed: int) -> pl.DataFrame:
    """The validation examples a run profiles: at most ``per_user`` per user, then ``n`` in all.

    Both draws are seeded and spread over all validation users, never the first users' rows:
    examples of one user are correlated, so a score over many users with few examples each
    picks a step with less noise than the same number of examples from a few users.
    """
    valid = valid.sort("example_id")
    if per_user:
        valid = (
            valid.with_columns(_r=pl.int_range(pl.len()).shuffle(seed=seed).over("user_id"))
            .filter(pl.col("_r") < per_user)
            .drop("_r")
        )
    if n and valid.height > n:
        valid = valid.sample(n, seed=seed)
    return valid.sort("example_id")


def disjoint_users(valid: pl.DataFrame, train: pl.DataFrame) -> pl.DataFrame:
    """The validation examples of users with no training example (``eval_disjoint_users``)."""
    held = valid.filter(~pl.col("user_id").is_in(train["user_id"].unique().implode()))
    if held.is_empty():
        raise UserError(
            f"every validation user also has a training example ({train['user_id'].n_unique()} "
            "training users): sample fewer training examples (train_examples) or set "
            "eval_disjoint_users: false"
        )
    return held


class Validator:
    """Profiles a fixed set of validation examples with the current policy and ranks the catalogue."""

    def __init__(
        self,
        ds: Dataset,
        examples: pl.DataFrame,
        prompts: list[Messages],
        embedder: Embedder,
        item_vectors: np.ndarray,
        max_new_tokens: int,
        generation: GenerationConfig | None = None,
        test_time: tuple[str, str] | None = None,
    ) -> None:
        self.prompts = prompts
        #: (base model folder, dtype): on a CPU, profile with the model `profile --adapter`
        #: builds from the current adapter instead of the policy itself (see _test_time).
        self.test_time = test_time
        self.example_ids = examples["example_id"].to_list()
        self.user_ids = examples["user_id"].to_list()
        self.embedder = embedder
        self.items = item_vectors
        self.targets = [ds.item_index[i] for i in examples["item_id"]]
        self.masks = ds.seen_before(examples)
        # greedy at the default penalty unless told otherwise (research/blue/decode_sweep.py)
        self.gen_config = generation or GenerationConfig(max_new_tokens=max_new_tokens)

    def __call__(self, model: Any, tokenizer: Any) -> tuple[dict[str, float], pl.DataFrame]:
        """The scores, and the profiles and target ranks behind them."""
        was_training = model.training
        model.eval()
        try:
            # 16 keeps CPU memory low; on a GPU a 30-layer 135M model is bound by kernel
            # launches, so 64 prompts per batch cost about what 16 do (4x faster validation).
            on_gpu = next(model.parameters()).is_cuda
            batch = 64 if on_gpu else 16
            if on_gpu or self.test_time is None:
                gen = TransformersGenerator.wrap(model, tokenizer, "policy", batch_size=batch)
                texts = gen.generate(self.prompts, self.gen_config)
            else:
                texts = _test_time(model, *self.test_time).generate(self.prompts, self.gen_config)
        finally:
            model.train(was_training)
        vecs = self.embedder.embed(texts)
        res = rank_by_embeddings(vecs, self.items, self.targets, self.masks, k=10)
        seen = pl.DataFrame(
            {
                "example_id": self.example_ids,
                "user_id": self.user_ids,
                "profile": texts,
                "target_rank": np.asarray(res.target_ranks, dtype=np.int64),
            }
        )
        # MRR uses every rank, not just the top 10: with a few dozen validation users
        # NDCG@10 is often exactly 0, so MRR breaks its ties when picking the best adapter.
        scores = {
            "valid_ndcg@10": float(NDCG(10).per_user(res.target_ranks).mean()),
            "valid_recall@10": float(Recall(10).per_user(res.target_ranks).mean()),
            "valid_mrr": float(MRR().per_user(res.target_ranks).mean()),
            "valid_profile_words": float(np.mean([len(t.split()) for t in texts])),
            "valid_sameness": sameness(vecs),
        }
        return scores, seen


def _test_time(model: Any, base: str, dtype: str) -> TransformersGenerator:
    """The generator ``profile --adapter`` would build from the policy's current adapter.

    Decoding on a CPU reads every weight per token: the float32 policy with its LoRA
    unmerged generated 512 Industrial validation profiles more slowly than 25 training
    steps ran, while this merged bfloat16 model (where the CPU has native bf16) is about 3x
    faster, and its profiles are the test-time ones. (A deep copy of the training policy
    merged in place still ran LoRA layers under TRL, so the adapter goes through a file.)
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="profilerec-valid-") as tmp:
        model.save_pretrained(tmp)  # the adapter only
        return TransformersGenerator(base, adapter=tmp, dtype=dtype, batch_size=16)


class FiniteCallback(TrainerCallback):  # type: ignore[misc]
    """Stops training at a non-finite loss or weight. Add it before any callback that saves:
    ``on_step_end`` and ``on_log`` run before the Trainer saves the step's checkpoint."""

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        check_loss_finite(logs, state.global_step)

    def on_step_end(
        self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any
    ) -> None:
        if model is not None:
            check_model_finite(model, f"at step {state.global_step}")


class BlueCallback(TrainerCallback):  # type: ignore[misc]
    """Writes every log line to ``train_log.jsonl``, validates every N steps, saves the best adapter."""

    def __init__(self, run_dir: Path, validator: Validator, tokenizer: Any, every: int) -> None:
        self.run_dir = run_dir
        self.validator = validator
        self.tokenizer = tokenizer
        self.every = every
        self.log_path = run_dir / "train_log.jsonl"
        self.best_path = run_dir / "best.json"
        self.best = (
            self._key(json.loads(self.best_path.read_text()))
            if self.best_path.exists()
            else (-1.0, -1.0)
        )
        self.started = time.perf_counter()

    @staticmethod
    def _key(scores: dict[str, Any]) -> tuple[float, float]:
        """Best adapter: highest validation NDCG@10, ties broken by MRR."""
        return (float(scores["valid_ndcg@10"]), float(scores.get("valid_mrr", 0.0)))

    def _append(self, record: dict[str, Any]) -> None:
        # Peak resident memory so far: training on a CPU box is memory-bound as often as
        # time-bound, and a growing peak is the first sign of a leak.
        record["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        with self.log_path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")

    def validate(self, step: int, model: Any) -> dict[str, float]:
        check_model_finite(model, f"at step {step}")  # a diverged model is never kept as best
        try:
            scores, seen = self.validator(model, self.tokenizer)
        except RuntimeError as exc:
            if (error := diverged(exc, f"at step {step}")) is None:
                raise
            raise error from None
        # The profiles behind the score: a falling NDCG is read from these, not guessed.
        folder = self.run_dir / VALIDATION_DIR
        folder.mkdir(exist_ok=True)
        seen.write_parquet(folder / f"step-{step:06d}.parquet")
        self._append(
            {"step": step, "seconds": round(time.perf_counter() - self.started, 1), **scores}
        )
        if self._key(scores) > self.best:
            self.best = self._key(scores)
            model.save_pretrained(str(self.run_dir / "best_adapter"))
            self.best_path.write_text(json.dumps({"step": step, **scores}))
        return scores

    def on_train_begin(
        self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any
    ) -> None:
        if state.global_step == 0 and not self.best_path.exists():
            self.validate(0, model)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        if logs and ("loss" in logs or any(k.startswith("rewards/") for k in logs)):
            self._append(
                {
                    "step": state.global_step,
                    "seconds": round(time.perf_counter() - self.started, 1),
                    **logs,
                }
            )

    def on_step_end(
        self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any
    ) -> None:
        step = state.global_step
        if (self.every and step % self.every == 0) or step == state.max_steps:
            self.validate(step, model)
