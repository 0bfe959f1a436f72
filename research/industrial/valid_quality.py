"""Profile-quality figures of training runs' validation profiles (issue 34's readability target).

Each BLUE / RLPF / judge run on Industrial keeps ``validation/step-NNNNNN.parquet`` (the 512
user-disjoint validation examples, the profile its step wrote, the target's rank). This prints
evaluate's ``profile_quality`` figures for them (words, cut mid-sentence, invented personal data,
grounding; sameness needs the embedder, so it is the run's own ``valid_sameness``), with each
profile cut at its last full sentence as the test sets are (``profile`` does that), so a run
can be judged on readability before its test profiles are written. Validation only.

    python research/industrial/valid_quality.py DATASET RUN:STEP [RUN:STEP ...]
    e.g. runs/industrial/data runs/industrial/blue/coverage:0 runs/industrial/blue/coverage:25
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
from run_step import run_step

from profilerec.data.dataset import Dataset
from profilerec.evaluate.quality import history_texts
from profilerec.profile.quality import profile_quality, trim_to_sentence


def main(dataset: Path, specs: list[str]) -> None:
    ds = Dataset.load(dataset)
    valid = ds.split("valid")
    item_texts = ds.item_texts()
    print(
        "| run:step | words | cut mid-sentence | invented personal | grounding | NDCG@10 | sameness |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for spec in specs:
        run, step, path = run_step(spec)
        rows = pl.read_parquet(path)
        examples = rows.select("example_id").join(valid, on="example_id", how="left")  # row order
        if examples["user_id"].null_count():
            sys.exit(f"error: {path} names examples that are not in {dataset}'s validation split")
        profiles = [trim_to_sentence(p) for p in rows["profile"].to_list()]
        q = profile_quality(profiles, history_texts(ds, examples), item_texts)
        log = [
            json.loads(line) for line in (Path(run) / "train_log.jsonl").read_text().splitlines()
        ]
        logged = [e for e in log if e.get("step") == int(step) and "valid_ndcg@10" in e]
        ndcg = f"{logged[-1]['valid_ndcg@10']:.4f}" if logged else "-"
        same = (
            f"{logged[-1]['valid_sameness']:.3f}"
            if logged and "valid_sameness" in logged[-1]
            else "-"
        )
        print(
            f"| {spec} | {q['mean_words']:.1f} | {q['cut_mid_sentence']:.1%} | "
            f"{q['invented_personal']:.1%} | {q['grounding']:.3f} | {ndcg} | {same} |"
        )


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2:])
