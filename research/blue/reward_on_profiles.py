"""BLUE's embedding reward on fixed test examples, for several profile sets.

Training logs one user's rollouts per step, so its reward curve mixes learning with which
user came up; this scores every profile set on the same examples (the same negatives
per example), which is the before/after comparison of the reward itself; every set after
the first also gets its paired difference from the first (paired bootstrap, same examples).
"Sameness" is the mean cosine between two different users' profiles: it rises when a
profiler writes one generic profile for everyone.
Usage: python research/blue/reward_on_profiles.py DATA NAME=PROFILES_DIR [...] [--split test]
       [--variant V] [--negatives N]
"""

from __future__ import annotations

import argparse

import numpy as np

from profilerec.data.dataset import Dataset
from profilerec.embed import load_embedder
from profilerec.paths import embedding_cache_dir
from profilerec.profile.stage import load_profiles
from profilerec.retrieval import bootstrap_ci, paired_bootstrap
from profilerec.rewards import EmbeddingReward


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--split", default="test")
    parser.add_argument("--item-text-budget", type=int, default=300)
    parser.add_argument("--variant", default="logprob", help="logprob, rank, margin, ndcg or mrr")
    parser.add_argument(
        "--negatives", type=int, default=128, help="negatives per example (0 = whole catalogue)"
    )
    args = parser.parse_args()
    ds = Dataset.load(args.dataset)
    embedder = load_embedder("sentence-transformers", cache_dir=embedding_cache_dir())
    reward = EmbeddingReward(
        embedder,
        embedder.embed(ds.item_texts(args.item_text_budget)),
        variant=args.variant,
        n_negatives=args.negatives,
    )
    examples = ds.split(args.split).sort("example_id")
    targets = [[ds.item_index[i]] for i in examples["item_id"]]
    history = ds.seen_before(examples)
    negs = f"{args.negatives} negatives" if args.negatives else "whole catalogue"
    print(
        f"| profiles | embedding reward ({args.variant}, {negs}) [95% CI] | examples "
        "| vs first set: diff [95% CI], p | sameness |"
    )
    print("|---|---|---:|---|---:|")
    first: np.ndarray | None = None
    for spec in args.sets:
        name, _, path = spec.partition("=")
        frame = load_profiles(path).select("example_id", "profile")
        texts = dict(zip(frame["example_id"], frame["profile"], strict=True))
        rows = [texts[e] for e in examples["example_id"]]
        # Embedded once: the same vectors give the reward and the sameness.
        vecs = embedder.embed(rows)
        vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        n = len(rows)
        sameness = float(((vecs @ vecs.T).sum() - n) / max(n * (n - 1), 1))
        values = np.array(
            [
                reward.score(v, t, list(h)) if text else np.nan  # an empty profile: no reward
                for v, text, t, h in zip(vecs, rows, targets, history, strict=True)
            ],
            dtype=float,
        )
        paired = "-"
        if first is None:
            first = values
        else:
            both = np.isfinite(values) & np.isfinite(first)
            d = paired_bootstrap(values[both], first[both])
            paired = f"{d.mean_diff:+.3f} [{d.low:+.3f}, {d.high:+.3f}], {d.p_value:.3f}"
        kept = values[np.isfinite(values)]
        ci = bootstrap_ci(kept)
        print(
            f"| {name} | {kept.mean():.3f} [{ci.low:.3f}, {ci.high:.3f}] | {len(kept)} | {paired} "
            f"| {sameness:.3f} |"
        )


if __name__ == "__main__":
    main()
