"""``profilerec train --method blue``: GRPO on the profiler with TRL, LoRA with PEFT.

TRL's GRPOTrainer does the RL; this module only assembles what it needs (rows,
rewards, configs) and the validation/best-adapter bookkeeping TRL does not do.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.llm.hf import resolve_dtype
from profilerec.llm.prompts import load_template
from profilerec.methods.blue.config import DEFAULTS_BEFORE_37, BlueConfig
from profilerec.methods.blue.data import build_rows, select_train_examples
from profilerec.methods.blue.grpo import grpo_args
from profilerec.methods.blue.validation import (
    BlueCallback,
    FiniteCallback,
    Validator,
    disjoint_users,
    validation_sample,
)
from profilerec.methods.tracking import tracking_setup
from profilerec.profile.exposure import exposure_frame, write_exposure
from profilerec.profile.finite import check_model_finite, diverged
from profilerec.profile.prompts import build_prompts
from profilerec.profile.runs import ADAPTER_DIR, BEST_DIR
from profilerec.rewards import (
    EmbeddingReward,
    JudgeReward,
    LMScorer,
    NextItemReward,
    RLPFReward,
    ShapingReward,
)


def load_policy(model: str | None) -> tuple[Any, Any, str]:
    """Model, tokenizer and its source; ``None`` is the bundled SmolLM2 and a name of
    ``llm.named`` (``gemma3-270m``) a shipped model, each from its de-quantized cache."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from profilerec.llm.named import resolve_named

    named = resolve_named(model)
    source = named[0] if named is not None else str(model)
    try:
        tok = AutoTokenizer.from_pretrained(source, local_files_only=True)
        net = AutoModelForCausalLM.from_pretrained(
            source, dtype=torch.float32, local_files_only=True
        )
    except OSError as err:
        raise UserError(f"cannot load profiler model {source!r} offline: {err}") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    return net, tok, source


def build_rewards(
    config: BlueConfig,
    ds: Dataset,
    embedder: Embedder,
    item_vecs: np.ndarray,
    item_texts: list[str],
    tokenizer: Any,
) -> tuple[list[Any], list[float]]:
    shaping = ShapingReward(
        max_completion_length=config.max_completion_length,
        eos_token_id=tokenizer.eos_token_id,
        max_words=config.max_words,
    )
    if config.reward == "blue":
        funcs: list[Any] = [
            EmbeddingReward(
                embedder,
                item_vecs,
                n_negatives=config.n_negatives,
                temperature=config.reward_temperature,
                variant=config.reward_variant,  # type: ignore[arg-type]
                seed=config.seed,
            )
        ]
        weights = [config.weight_embedding]
        if config.weight_next_item:
            funcs.append(NextItemReward())
            weights.append(config.weight_next_item)
    elif config.reward == "rlpf":
        titles = [str(t) or i for t, i in zip(ds.items["title"], ds.item_ids, strict=True)]
        funcs, weights = [RLPFReward(titles, seed=config.seed)], [config.weight_baseline]
    else:
        funcs, weights = [JudgeReward()], [config.weight_baseline]
    return [*funcs, shaping], [*weights, config.weight_shaping]


def train_blue(
    ds: Dataset,
    embedder: Embedder,
    run_dir: str | Path,
    config: BlueConfig,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """Train, validate every ``eval_every`` steps, save ``adapter`` and ``best_adapter``; resumable."""
    from datasets import Dataset as HFDataset
    from peft import LoraConfig
    from transformers.trainer_utils import get_last_checkpoint
    from trl import GRPOTrainer

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = run_dir / "blue_config.json"
    # An option added since the run began reads as the default it had then (issue 37
    # changed the defaults; a config saved since holds every option).
    before = (
        {**BlueConfig().to_dict(), **DEFAULTS_BEFORE_37, **json.loads(saved.read_text())}
        if saved.exists()
        else {}
    )
    if saved.exists() and _defining(before) != _defining(config.to_dict()):
        ckpts = run_dir / "checkpoints"
        if ckpts.exists() and any(ckpts.iterdir()):
            raise UserError(
                f"{run_dir} holds a run with a different config (only max_steps, eval_every, "
                "save_every, threads and report_to may change on resume); use a new --out or delete it"
            )
    saved.write_text(json.dumps(config.to_dict(), indent=2))
    if config.threads:
        torch.set_num_threads(config.threads)

    template = load_template(config.template)
    if config.trainable_embedder:
        embedder = _trainable(embedder)
    item_texts = ds.item_texts(config.item_text_budget)
    item_vecs = embedder.embed(item_texts)
    train = select_train_examples(
        ds, config.train_examples, one_per_user=config.one_per_user, seed=config.seed
    )
    history = config.history_format()
    rows = build_rows(
        ds,
        train,
        template,
        n_positives=config.n_positives,
        item_texts=item_texts,
        history=history,
        positives_from=config.positives_from,
    )
    if not rows:
        raise UserError(
            f"no training example has a history to cover (positives_from: {config.positives_from})"
        )
    valid = ds.split("valid").sort("example_id")
    if valid.is_empty():
        raise UserError(
            "validation examples are needed to pick the best adapter; the dataset has none"
        )
    if config.eval_disjoint_users:
        valid = disjoint_users(valid, train)
    valid = validation_sample(valid, config.eval_examples, config.eval_per_user, config.seed)
    write_exposure(run_dir, exposure_frame(ds, train, valid, future_items=config.future_items()))

    if config.bf16 and not torch.cuda.is_available() and resolve_dtype("auto") != "bfloat16":
        # Measured: on an AMD EPYC without AVX-512 BF16 one 16-rollout step did not finish in
        # 5 minutes with bf16 (emulated) where float32 takes about a minute.
        Console(stderr=True, quiet=not progress).print(
            "warning: bf16 is emulated on this CPU (no AVX-512 BF16 / AMX): a step is several "
            "times slower than float32; set bf16: false"
        )
    report_to, trackers = tracking_setup(config.report_to, run_dir)  # before the model loads
    # TRL's options (profilerec's and the config's trl: block) are checked before the model
    # loads; the reward weights follow once the reward functions exist.
    args = grpo_args(
        config,
        run_dir,
        report_to=report_to,
        use_cpu=not torch.cuda.is_available(),
        progress=progress,
    )
    model, tokenizer, model_source = load_policy(config.model)
    funcs, weights = build_rewards(config, ds, embedder, item_vecs, item_texts, tokenizer)
    args.reward_weights = weights
    peft_config = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_targets),
        task_type="CAUSAL_LM",
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=args,
        train_dataset=HFDataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    scorer = LMScorer(trainer.model, tokenizer, batch_size=4, disable_adapter=True)
    for f in funcs:
        if hasattr(f, "bind"):
            f.bind(scorer)
    valid_prompts = build_prompts(ds, valid, template, history)
    validator = Validator(
        ds,
        valid,
        valid_prompts,
        embedder,
        item_vecs,
        config.max_completion_length,
        test_time=(model_source, resolve_dtype("auto") if config.bf16 else "float32"),
    )
    callback = BlueCallback(run_dir, validator, tokenizer, config.eval_every)
    trainer.add_callback(FiniteCallback())  # first: a diverged step stops before any save
    trainer.add_callback(callback)
    for tracker in trackers:  # TensorBoard with its writer in RUN/tensorboard
        trainer.add_callback(tracker)
    if config.trainable_embedder:
        from profilerec.methods.blue.embedder_ft import EmbedderRounds

        some = rows[: config.embedder_examples]
        trainer.add_callback(
            EmbedderRounds(
                embedder,  # type: ignore[arg-type]
                [r["prompt"] for r in some],
                [r["target_text"] for r in some],
                item_texts,
                [f for f in funcs if hasattr(f, "items")] + [validator],
                tokenizer,
                every=config.embedder_every,
                max_new_tokens=config.max_completion_length,
                save_dir=run_dir / "embedder",
                log=callback._append,
            )
        )

    started = time.perf_counter()
    last = (
        get_last_checkpoint(str(run_dir / "checkpoints"))
        if (run_dir / "checkpoints").exists()
        else None
    )
    try:
        trainer.train(resume_from_checkpoint=last)
    except RuntimeError as exc:  # sampling from overflowing logits, before any weight is NaN
        if (error := diverged(exc, f"at step {trainer.state.global_step + 1}")) is None:
            raise
        raise error from None
    check_model_finite(trainer.model, "by the last step")
    trainer.model.save_pretrained(str(run_dir / ADAPTER_DIR))
    tokenizer.save_pretrained(str(run_dir / ADAPTER_DIR))
    if (run_dir / BEST_DIR).exists():
        tokenizer.save_pretrained(str(run_dir / BEST_DIR))
    summary = {
        "base_model": model_source,
        "steps": trainer.state.global_step,
        "seconds": round(time.perf_counter() - started, 1),
        "train_examples": len(rows),
        "train_users": train["user_id"].n_unique(),
        "validation_examples": valid.height,
        "validation_users": valid["user_id"].n_unique(),
        "best": json.loads((run_dir / "best.json").read_text())
        if (run_dir / "best.json").exists()
        else None,
        "resumed_from": last,
    }
    (run_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _trainable(embedder: Embedder) -> Embedder:
    """The sentence-transformers embedder under any cache: its weights will change, so no cache."""
    from profilerec.embed.st import SentenceTransformerEmbedder

    inner = getattr(embedder, "inner", embedder)
    if not isinstance(inner, SentenceTransformerEmbedder):
        raise UserError("the trainable-embedder condition needs a sentence-transformers embedder")
    return inner


#: Options that may change when a run is resumed: they do not change what is learnt.
RESUMABLE = ("max_steps", "eval_every", "save_every", "threads", "report_to")


def _defining(config: dict[str, Any]) -> dict[str, Any]:
    """The options that define a run (JSON-normalised, so tuples equal lists)."""
    data = json.loads(json.dumps(config))
    return {k: v for k, v in data.items() if k not in RESUMABLE}
