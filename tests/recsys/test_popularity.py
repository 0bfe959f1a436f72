from __future__ import annotations

from collections.abc import Callable

import numpy as np

from profilerec.data.dataset import Dataset
from profilerec.recsys.popularity import popularity_scores


def test_counts_training_interactions_only(make_dataset: Callable[..., Dataset]) -> None:
    # Leave-last-out: the last two items of each user are validation/test targets.
    ds = make_dataset(
        {
            "u1": ["a", "b", "c", "d"],  # trains on a, b
            "u2": ["b", "c", "e"],  # trains on b
            "u3": ["c", "a", "b", "d", "e"],  # trains on c, a, b
        },
        catalogue=["f", "e", "d", "c", "b", "a"],  # f is never seen
    )
    scores = popularity_scores(ds)
    assert scores.dtype == np.float32
    # f e d c b a: d and e only ever appear as valid/test targets.
    np.testing.assert_array_equal(scores, [0, 0, 0, 1, 3, 2])


def test_target_at_an_earlier_time_elsewhere_still_counts(
    make_dataset: Callable[..., Dataset],
) -> None:
    # "x" is u1's test target but a training item of u2: only u2's interaction counts.
    ds = make_dataset({"u1": ["a", "b", "x"], "u2": ["x", "a", "b", "c"]})
    np.testing.assert_array_equal(popularity_scores(ds), [2, 0, 0, 1])  # a b c x
