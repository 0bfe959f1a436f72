"""``profilerec train --method rft``: best-of-N profiles distilled into the profiler, in rounds.

Each round: sample candidates from the current policy (``sample.py``), keep the winners
that beat the greedy profile on BLUE's embedding reward, fine-tune the LoRA on them with
TRL's SFTTrainer (completion-only loss), then profile the validation users greedily. The
untrained profiler is round 0, so ``best_adapter`` exists only if a round beats it.

Resumable: a finished round's adapter is reloaded, an unfinished round's candidate parts
are reused. ``engine: ray`` samples the candidates on a Ray actor pool from the round's
saved policy (``engine.py``); the rest of a round stays in this process. Rewards use only
training interactions (``methods.blue.data``), so no validation or test item reaches a
candidate's score or the SFT data.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import polars as pl
import torch
from rich.console import Console

from profilerec.atomic import atomic_folder, write_text_atomic
from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.llm.hf import resolve_dtype
from profilerec.llm.prompts import load_template
from profilerec.methods.blue.data import build_rows, select_train_examples
from profilerec.methods.blue.trainer import load_policy
from profilerec.methods.blue.validation import VALIDATION_DIR, Validator, validation_sample
from profilerec.methods.rft.config import RESUMABLE, RFTConfig
from profilerec.methods.rft.sample import autocast, sample_round, select_winners
from profilerec.methods.tracking import check_installed, parse_report_to, tracking_setup
from profilerec.profile.exposure import exposure_frame, write_exposure
from profilerec.profile.finite import check_model_finite
from profilerec.profile.prompts import build_prompts
from profilerec.profile.runs import ADAPTER_DIR, BEST_DIR
from profilerec.rewards import EmbeddingReward

CONFIG_FILE = "rft_config.json"
LOG_FILE = "train_log.jsonl"
ROUNDS_DIR = "rounds"
_MARKER = "adapter_config.json"


def _check_config(run: Path, cfg: RFTConfig) -> None:
    saved = run / CONFIG_FILE
    if saved.exists():
        before = {**RFTConfig().to_dict(), **json.loads(saved.read_text())}
        now = json.loads(json.dumps(cfg.to_dict()))
        if {k: v for k, v in before.items() if k not in RESUMABLE} != {
            k: v for k, v in now.items() if k not in RESUMABLE
        }:
            raise UserError(
                f"{run} holds a run with a different config (only rounds and threads may "
                "change on resume); use a new --out or delete it"
            )
    write_text_atomic(saved, json.dumps(cfg.to_dict(), indent=2))


def _append(run: Path, record: dict[str, Any]) -> None:
    with (run / LOG_FILE).open("a") as fh:
        fh.write(json.dumps(record) + "\n")


def _logged_rounds(run: Path) -> dict[int, dict[str, Any]]:
    path = run / LOG_FILE
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {int(r["round"]): r for r in records if "valid_ndcg@10" in r}


def _key(scores: dict[str, Any]) -> tuple[float, float]:
    """Best adapter: highest validation NDCG@10, ties broken by MRR (as BLUE's rule)."""
    return (float(scores["valid_ndcg@10"]), float(scores.get("valid_mrr", 0.0)))


def _sft(
    model: Any,
    tokenizer: Any,
    prompts: list[Any],
    winners: pl.DataFrame,
    cfg: RFTConfig,
    round_: int,
    out: Path,
    progress: bool,
) -> float:
    """LoRA SFT on the winners (loss on the profile tokens only); returns the mean loss."""
    from datasets import Dataset as HFDataset
    from trl import SFTConfig, SFTTrainer

    by_id = dict(zip(winners["example_id"], winners["profile"], strict=True))
    data = HFDataset.from_list(
        [
            {"prompt": p, "completion": [{"role": "assistant", "content": by_id[eid]}]}
            for eid, p in prompts
            if eid in by_id
        ]
    )
    run = out.parents[1]  # out is RUN/rounds/round-NNN; every round logs under RUN
    report_to, trackers = tracking_setup(cfg.report_to, run, f"round_{round_}")
    args = SFTConfig(
        output_dir=str(out / "sft"),
        run_name=f"round {round_}",
        use_cpu=not torch.cuda.is_available(),
        bf16=cfg.bf16,
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="constant",
        completion_only_loss=True,
        save_strategy="no",
        logging_steps=5,
        report_to=report_to,
        seed=cfg.seed + round_,
        disable_tqdm=not progress,
        dataloader_num_workers=0,
        max_length=512,
        gradient_checkpointing=False,
    )
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=data, processing_class=tokenizer, callbacks=trackers
    )
    result = trainer.train()
    return float(result.training_loss)


def train_rft(
    ds: Dataset, embedder: Embedder, run_dir: str | Path, cfg: RFTConfig, *, progress: bool = True
) -> dict[str, Any]:
    """Run the rounds, validate after each, keep ``best_adapter``; returns the summary."""
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    _check_config(run, cfg)
    check_installed(parse_report_to(cfg.report_to))  # before any model loads
    if cfg.engine == "ray":
        from profilerec.methods.rft.engine import ray_options

        ray_options(cfg)  # bad options or a missing ray extra: refused before any model loads
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.bf16 and not torch.cuda.is_available() and resolve_dtype("auto") != "bfloat16":
        Console(stderr=True, quiet=not progress).print(
            "warning: bf16 is emulated on this CPU (no AVX-512 BF16 / AMX): set bf16: false"
        )
    template = load_template(cfg.template)
    history = cfg.history_format()
    item_texts = ds.item_texts(cfg.item_text_budget)
    item_vecs = embedder.embed(item_texts)
    train = select_train_examples(
        ds, cfg.train_examples, one_per_user=cfg.one_per_user, seed=cfg.seed
    )
    rows = build_rows(
        ds, train, template, n_positives=cfg.n_positives, item_texts=item_texts, history=history
    )
    valid = ds.split("valid").sort("example_id")
    if valid.is_empty():
        raise UserError("validation examples are needed to pick the best round; there are none")
    valid = validation_sample(valid, cfg.eval_examples, cfg.eval_per_user, cfg.seed)
    write_exposure(run, exposure_frame(ds, train, valid, future_items=cfg.future_items()))
    validator = Validator(
        ds,
        valid,
        build_prompts(ds, valid, template, history),
        embedder,
        item_vecs,
        cfg.max_new_tokens,
    )
    reward = EmbeddingReward(
        embedder,
        item_vecs,
        n_negatives=cfg.n_negatives,
        temperature=cfg.reward_temperature,
        variant=cfg.reward_variant,  # type: ignore[arg-type]
        seed=cfg.seed,
    )
    base, tokenizer, source = load_policy(cfg.model)
    model = get_peft_model(
        base,
        LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=list(cfg.lora_targets),
            task_type="CAUSAL_LM",
        ),
    )
    if torch.cuda.is_available():
        # SFTTrainer would move the model only in round 1's SFT, after round 0's validation and
        # round 1's sampling had run on the CPU (seen on an H200: 64 examples in 4 minutes).
        model.to("cuda")
    started = time.perf_counter()
    done = _logged_rounds(run)

    def validate(round_: int) -> dict[str, Any]:
        with autocast(cfg.bf16):
            scores, seen = validator(model, tokenizer)
        folder = run / VALIDATION_DIR
        folder.mkdir(exist_ok=True)
        seen.write_parquet(folder / f"round-{round_:03d}.parquet")
        return scores

    def save(target: Path) -> None:
        check_model_finite(model, f"before saving {target}")  # a diverged model is never kept
        with atomic_folder(target, _MARKER, "adapter") as tmp:
            model.save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))

    if 0 not in done:
        done[0] = {"round": 0, **validate(0)}
        _append(run, done[0])
        save(run / BEST_DIR)  # the untrained LoRA (zero update): the profiler to beat
    best = max(done.values(), key=_key)
    for round_ in range(1, cfg.rounds + 1):
        folder = run / ROUNDS_DIR / f"round-{round_:03d}"
        record: dict[str, Any]
        if (folder / ADAPTER_DIR / _MARKER).is_file():
            state = load_file(str(folder / ADAPTER_DIR / "adapter_model.safetensors"))
            set_peft_model_state_dict(model, state)
            if round_ in done:
                continue
            record = {"round": round_, "resumed": True, **validate(round_)}
        else:
            record = _round(
                model, tokenizer, rows, reward, cfg, round_, folder, progress, source=source
            )
            record.update(validate(round_))
        _append(run, record)
        done[round_] = record
        if _key(record) > _key(best):
            best = record
            save(run / BEST_DIR)
    save(run / ADAPTER_DIR)
    summary = {
        "base_model": source,
        "rounds": cfg.rounds,
        "best_round": int(best["round"]),
        "best_valid_ndcg@10": float(best["valid_ndcg@10"]),
        "round0_valid_ndcg@10": float(done[0]["valid_ndcg@10"]),
        "train_examples": len(rows),
        "seconds_this_call": round(time.perf_counter() - started, 1),
    }
    write_text_atomic(run / "train_summary.json", json.dumps(summary, indent=2))
    return summary


def _round(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    reward: EmbeddingReward,
    cfg: RFTConfig,
    round_: int,
    folder: Path,
    progress: bool,
    *,
    source: str,
) -> dict[str, Any]:
    """Sample, select and fine-tune one round; saves the round's adapter."""
    t0 = time.perf_counter()
    runner = None
    if cfg.engine == "ray":
        from profilerec.methods.rft.engine import ray_runner

        runner = ray_runner(model, cfg, source, folder)  # saves the policy it samples
    cands = sample_round(
        model,
        tokenizer,
        rows,
        reward,
        cfg,
        folder / "candidates",
        round_,
        progress=progress,
        runner=runner,
    )
    winners = select_winners(cands, cfg.min_gain)
    sample_secs = time.perf_counter() - t0
    if winners.is_empty():
        raise UserError(
            f"round {round_}: no sample beat the greedy profile (min_gain {cfg.min_gain}); "
            "raise num_samples or the sample temperature"
        )
    loss = _sft(
        model,
        tokenizer,
        [(r["example_id"], r["prompt"]) for r in rows],
        winners,
        cfg,
        round_,
        folder,
        progress,
    )
    check_model_finite(model, f"in round {round_}")  # loss or weights non-finite: stop here
    with atomic_folder(folder / ADAPTER_DIR, _MARKER, "adapter") as tmp:
        model.save_pretrained(str(tmp))
    winners.write_parquet(folder / "winners.parquet")
    return {
        "round": round_,
        "winners": winners.height,
        "examples": len(rows),
        "greedy_reward": float(cands.filter(pl.col("sample") == -1)["reward"].mean()),
        "winner_reward": float(winners["reward"].mean()),
        "sft_loss": loss,
        "sample_seconds": round(sample_secs, 1),
        "round_seconds": round(time.perf_counter() - t0, 1),
    }
