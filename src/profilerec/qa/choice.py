"""Next-item multiple choice: the true next item among sampled wrong options, by log-likelihood.

Options are never listed in the prompt: each option's title is scored as the reader's
answer to "name the product this customer buys next", so a context helps exactly when it
makes the true item likelier than the others (the "none" context measures the titles' prior).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset


def sample_options(
    ds: Dataset, examples: pl.DataFrame, n_negatives: int, seed: int
) -> tuple[list[list[int]], list[int]]:
    """Per example: catalogue indices of its options (shuffled) and the true one's position.

    Wrong options come from the catalogue minus everything the user had before the target
    (never truncated) and minus the target. Each example's draw is seeded by (seed,
    example_id), so a ``--limit`` run asks the same questions as a full one.
    """
    index = ds.item_index
    n_items = len(index)
    options, answers = [], []
    seen = ds.seen_before(examples)
    for eid, target, past in zip(examples["example_id"], examples["item_id"], seen, strict=True):
        rng = np.random.default_rng([seed, int(eid)])
        t = index[target]
        banned = set(past) | {t}
        pool = np.array([i for i in range(n_items) if i not in banned])
        negs = rng.choice(pool, size=min(n_negatives, len(pool)), replace=False).tolist()
        opts = [t, *negs]
        order = rng.permutation(len(opts))
        shuffled = [opts[k] for k in order]
        options.append(shuffled)
        answers.append(shuffled.index(t))
    return options, answers


def negatives_room(ds: Dataset, examples: pl.DataFrame) -> int:
    """The most wrong options every example can have: its smallest pool (catalogue minus the
    user's past and the target). ``--negatives`` above it is capped to it and recorded so."""
    index = ds.item_index
    seen = ds.seen_before(examples)
    targets = [index[t] for t in examples["item_id"]]
    return min(
        (len(index) - len(set(p) | {t}) for p, t in zip(seen, targets, strict=True)), default=0
    )


def pick(scores: list[list[float]]) -> np.ndarray:
    """Index of the best-scoring option per example (first on ties)."""
    return np.array([int(np.argmax(s)) for s in scores])


def popularity_scores(ds: Dataset, options: list[list[int]]) -> list[list[float]]:
    """Each option's count of training interactions: the no-model choice baseline."""
    counts = ds.train_interactions().group_by("item_id").len()
    by_item = dict(counts.iter_rows())
    ids = ds.item_ids
    return [[float(by_item.get(ids[o], 0)) for o in opts] for opts in options]
