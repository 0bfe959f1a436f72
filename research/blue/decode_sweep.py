"""Choose test-time decoding for a trained profiler on its run's own validation sample.

Usage: python research/blue/decode_sweep.py RUN DATASET --out DIR [--no-repeat 0 3 6]
       [--adapter best|final] [--threads 2]

Regenerates the greedy validation profiles of a `profilerec train` run (the same examples
and prompts its validation used) with the untrained profiler and with the run's adapter,
once per decoding setting, and prints NDCG@10, cross-user sameness, the share of repeated
4-grams and the paired bootstrap (by user) of every row against the untrained profiler at
the default decoding. Why: the coverage adapter at 150 steps lists its history titles over
and over (docs/results.md), and whether blocking repeats helps must be decided on
validation, never on test. Each row's profiles are kept in DIR, so a rerun resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.embed import load_embedder
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig
from profilerec.llm.hf import TransformersGenerator
from profilerec.llm.prompts import load_template
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.blue.validation import Validator, sameness, validation_sample
from profilerec.profile.prompts import build_prompts
from profilerec.retrieval import NDCG, paired_bootstrap


def repeated_share(text: str, n: int = 4) -> float:
    """Share of a profile's word n-grams that already occurred earlier in it."""
    words = text.split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def main() -> None:
    try:
        sweep()
    except UserError as err:  # a bad path or run: one line, non-zero exit
        sys.exit(f"error: {err}")


def sweep() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--no-repeat", type=int, nargs="+", default=[0, 3, 6])
    ap.add_argument("--adapter", choices=["best", "final"], default="best")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    config_path = args.run / "blue_config.json"
    if not config_path.is_file():
        raise SystemExit(f"{args.run}: not a `profilerec train` run (no blue_config.json)")
    config = BlueConfig.from_mapping(json.loads(config_path.read_text()), str(config_path))
    ds = Dataset.load(args.dataset)
    valid = validation_sample(
        ds.split("valid").sort("example_id"),
        config.eval_examples,
        config.eval_per_user,
        config.seed,
    )
    prompts = build_prompts(ds, valid, load_template(config.template), config.history_format())
    embedder = load_embedder(config.embedder)
    item_vecs = embedder.embed(ds.item_texts(config.item_text_budget))
    adapter = args.run / ("best_adapter" if args.adapter == "best" else "adapter")
    args.out.mkdir(parents=True, exist_ok=True)

    rows: list[dict[str, object]] = []
    ranks: dict[str, np.ndarray] = {}
    for model_name, adapter_dir in (("untrained", None), (f"{args.adapter}_adapter", adapter)):
        gen = None
        for n in args.no_repeat:
            label = f"{model_name}, no_repeat {n}"
            path = args.out / f"{model_name}_nr{n}.parquet"
            if path.exists():
                seen = pl.read_parquet(path)
            else:
                if gen is None:
                    gen = TransformersGenerator(
                        adapter=adapter_dir, dtype="float32", threads=args.threads
                    )
                decoding = GenerationConfig(
                    max_new_tokens=config.max_completion_length, no_repeat_ngram_size=n
                )
                validator = Validator(
                    ds, valid, prompts, embedder, item_vecs, config.max_completion_length, decoding
                )
                _, seen = validator(gen.model, gen.tokenizer)
                # atomic: a killed run never leaves a half-written row to resume from
                seen.write_parquet(path.with_suffix(".tmp"))
                os.replace(path.with_suffix(".tmp"), path)
            texts = seen["profile"].to_list()
            ranks[label] = seen["target_rank"].to_numpy()
            vecs = embedder.embed(texts)
            rows.append(
                {
                    "label": label,
                    "ndcg": float(NDCG(10).per_user(ranks[label]).mean()),
                    "sameness": sameness(vecs),
                    "repeated": float(np.mean([repeated_share(t) for t in texts])),
                    "words": float(np.mean([len(t.split()) for t in texts])),
                    "users": seen["user_id"].to_numpy(),
                }
            )

    ref = rows[0]["label"]
    print(f"{len(valid)} validation examples of {valid['user_id'].n_unique()} users; vs {ref}")
    print(
        "| decoding | valid NDCG@10 | Δ vs untrained default [95% CI], p | sameness | repeated 4-grams | words |"
    )
    print("|---|---:|---|---:|---:|---:|")
    for r in rows:
        label = str(r["label"])
        if label == ref:
            delta = "(reference)"
        else:
            d = paired_bootstrap(
                NDCG(10).per_user(ranks[label]),
                NDCG(10).per_user(ranks[str(ref)]),
                groups=r["users"],  # type: ignore[arg-type]
            )
            delta = f"{d.mean_diff:+.4f} [{d.low:+.4f}, {d.high:+.4f}], p = {d.p_value:.3f}"
        print(
            f"| {label} | {r['ndcg']:.4f} | {delta} | {r['sameness']:.3f} "
            f"| {r['repeated']:.3f} | {r['words']:.1f} |"
        )


if __name__ == "__main__":
    main()
