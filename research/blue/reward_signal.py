"""Is a GRPO group's reward ordering skill or luck? A split-half check on sampled profiles.

GRPO learns from how rollouts of the same prompt rank against each other. If a rollout that
ranks the user's next item well is a *better profile*, it should also rank the user's other
future items well; if its win is luck (a word that happens to match one item), the two
should not agree. This scores every candidate profile of an RFT round (the greedy profile and
the samples of each training example, written by ``train --method rft``) twice: the
reciprocal rank of the target over the catalogue (A) and the mean reciprocal rank of the
user's later training positives (B), each over the catalogue minus the history and every
positive (as the ``mrr`` reward does). It prints the correlation of A and B across users
(their per-example means: users differ in how findable their items are) and within examples
(deviations from each example's mean: the part GRPO's advantages use), with bootstrap CIs
over examples.
``--coverage N`` adds a score that needs no future item at all: how well the profile retrieves
the user's N most recent history items (C; the items its prompt shows), and what picking the
candidate with the best C does to A (best-of-N at inference time, or a reward without luck).
Usage: python research/blue/reward_signal.py DATA RFT_RUN [--round 1] [--positives 3] [--coverage 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.embed import load_embedder
from profilerec.methods.blue.data import next_train_items
from profilerec.paths import embedding_cache_dir
from profilerec.retrieval import paired_bootstrap
from profilerec.rewards import EmbeddingReward


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    return float((x @ y) / max(np.sqrt((x @ x) * (y @ y)), 1e-12))


def _pooled(groups: list[tuple[np.ndarray, np.ndarray]]) -> float:
    return _corr(np.concatenate([g[0] for g in groups]), np.concatenate([g[1] for g in groups]))


def _boot(groups: list[tuple[np.ndarray, np.ndarray]], n: int = 1000) -> tuple[float, float]:
    """Percentile CI of the pooled correlation, examples resampled."""
    rng = np.random.default_rng(0)
    stats = [
        _pooled([groups[i] for i in rng.integers(0, len(groups), len(groups))]) for _ in range(n)
    ]
    low, high = np.quantile(stats, [0.025, 0.975])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("run", type=Path)
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--positives", type=int, default=3)
    parser.add_argument(
        "--coverage", type=int, default=0, help="history items of the coverage score C (0: off)"
    )
    args = parser.parse_args()
    ds = Dataset.load(args.dataset)
    parts = sorted(
        (args.run / "rounds" / f"round-{args.round:03d}" / "candidates").glob("*.parquet")
    )
    if not parts:
        raise SystemExit(f"{args.run}: no candidates of round {args.round}")
    cand = pl.concat([pl.read_parquet(p) for p in parts]).sort("example_id", "sample")
    examples = ds.examples.filter(pl.col("example_id").is_in(cand["example_id"].unique().to_list()))
    examples = examples.sort("example_id")
    positives = dict(
        zip(examples["example_id"], next_train_items(ds, examples, args.positives), strict=True)
    )
    history = dict(zip(examples["example_id"], ds.seen_before(examples), strict=True))
    embedder = load_embedder("sentence-transformers", cache_dir=embedding_cache_dir())
    item_vecs = embedder.embed(ds.item_texts(300))
    vecs = embedder.embed(cand["profile"].to_list())
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    print("| score | correlation of A and B | across or within | examples, profiles |")
    print("|---|---|---|---|")
    for variant in ("mrr", "rank"):
        reward = EmbeddingReward(embedder, item_vecs, variant=variant, n_negatives=0)
        _report(variant, reward, cand, vecs, positives, history)
        if args.coverage:
            _coverage(variant, reward, cand, vecs, positives, history, args.coverage)


def _report(
    variant: str,
    reward: EmbeddingReward,
    cand: pl.DataFrame,
    vecs: np.ndarray,
    positives: dict[int, list[int]],
    history: dict[int, list[int]],
) -> None:
    a_all, b_all = [], []
    for vec, eid in zip(vecs, cand["example_id"].to_list(), strict=True):
        pos, hist = positives[eid], list(history[eid])
        if len(pos) < 2:
            a_all.append(np.nan)
            b_all.append(np.nan)
            continue
        # Each positive ranked against the catalogue minus the history and every positive.
        a_all.append(reward.score(vec, pos[:1], hist + pos[1:]))
        b_all.append(reward.score(vec, pos[1:], hist + pos[:1]))
    frame = (
        cand.with_columns(a=pl.Series(a_all), b=pl.Series(b_all))
        .drop_nans(["a", "b"])
        .with_columns(a_mean=pl.col("a").mean().over("example_id"))
    )
    if frame.is_empty():
        raise SystemExit("no example has a later training item to compare with")
    between, within = [], []
    for _, g in frame.group_by("example_id", maintain_order=True):
        a, b = g["a"].to_numpy(), g["b"].to_numpy()
        between.append((np.array([a.mean()]), np.array([b.mean()])))
        within.append((a - a.mean(), b - b.mean()))
    for label, groups in (("across examples (means)", between), ("within examples", within)):
        low, high = _boot(groups)
        print(
            f"| {variant} | {_pooled(groups):+.3f} [{low:+.3f}, {high:+.3f}] | {label} "
            f"| {len(within)}, {frame.height} |"
        )
    # Total variance = within-example variance + variance of the example means (per profile).
    within_var = (frame["a"] - frame["a_mean"]).var(ddof=0)
    share = within_var / max(frame["a"].var(ddof=0), 1e-12)
    print(f"| {variant} | share of A's variance within examples: {share:.3f} | | |")


def _coverage(
    variant: str,
    reward: EmbeddingReward,
    cand: pl.DataFrame,
    vecs: np.ndarray,
    positives: dict[int, list[int]],
    history: dict[int, list[int]],
    n: int,
) -> None:
    """C = the reward of the last ``n`` history items (the rest of the history excluded, the
    target never involved), its within-example agreement with A, and best-of-N by C."""
    a_all, c_all = [], []
    for vec, eid in zip(vecs, cand["example_id"].to_list(), strict=True):
        hist = list(history[eid])  # oldest first
        a_all.append(reward.score(vec, positives[eid][:1], hist + positives[eid][1:]))
        c_all.append(reward.score(vec, hist[-n:], hist[:-n]) if hist else np.nan)
    frame = cand.with_columns(a=pl.Series(a_all), c=pl.Series(c_all)).drop_nans(["a", "c"])
    within = [
        (g["c"].to_numpy() - g["c"].mean(), g["a"].to_numpy() - g["a"].mean())
        for _, g in frame.group_by("example_id", maintain_order=True)
    ]
    low, high = _boot(within)
    print(
        f"| {variant} | C (last {n} history items) vs A: {_pooled(within):+.3f} "
        f"[{low:+.3f}, {high:+.3f}] | within examples | {len(within)}, {frame.height} |"
    )
    # Best-of-N by C against the greedy profile (sample -1) and a random candidate, on A.
    picked = frame.sort("c", descending=True).group_by("example_id").first().sort("example_id")
    greedy = frame.filter(pl.col("sample") == -1).sort("example_id")
    mean_a = frame.group_by("example_id").agg(pl.col("a").mean()).sort("example_id")
    both = picked.select("example_id", best="a").join(
        greedy.select("example_id", greedy="a"), on="example_id"
    )
    both = both.join(mean_a.select("example_id", any="a"), on="example_id")
    for ref in ("greedy", "any"):
        d = paired_bootstrap(both["best"].to_numpy(), both[ref].to_numpy())
        print(
            f"| {variant} | A of the best-C candidate {both['best'].mean():.4f} vs "
            f"{'greedy' if ref == 'greedy' else 'a random candidate'} {both[ref].mean():.4f}: "
            f"{d.mean_diff:+.4f} [{d.low:+.4f}, {d.high:+.4f}], p {d.p_value:.3f} | best of N "
            f"| {both.height} |"
        )


if __name__ == "__main__":
    main()
