"""Full-catalogue ranking: masking, ties, chunking, cosine vs dot, input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from profilerec.errors import UserError
from profilerec.retrieval.scoring import ScoreChunk, rank_by_embeddings, rank_by_scores

# One row, five items. Sorted: item1 0.9, item4 0.7, item2 0.5, item3 0.3, item0 0.1.
SCORES = torch.tensor([[0.1, 0.9, 0.5, 0.3, 0.7]])


def fixed(scores: torch.Tensor) -> ScoreChunk:
    return lambda start, stop: scores[start:stop]


def test_mask_removes_history_from_ranking_and_topk() -> None:
    res = rank_by_scores(fixed(SCORES), 1, [2], [[1]], k=3)
    assert res.topk.tolist() == [[4, 2, 3]]  # item1 (0.9) is masked
    assert res.target_ranks.tolist() == [2]  # only item4 (0.7) beats 0.5
    assert res.target_scores.tolist() == pytest.approx([0.5])
    assert res.topk.dtype == np.int64 and res.target_ranks.dtype == np.int64


def test_without_mask_target_rank_counts_all_better_items() -> None:
    res = rank_by_scores(fixed(SCORES), 1, [2], [[]], k=2)
    assert res.topk.tolist() == [[1, 4]]
    assert res.target_ranks.tolist() == [3]


def test_target_in_mask_stays_rankable() -> None:
    res = rank_by_scores(fixed(SCORES), 1, [2], [[1, 2, 2]], k=3)
    assert res.target_ranks.tolist() == [2]
    assert res.topk.tolist() == [[4, 2, 3]]


def test_ties_are_resolved_in_the_targets_favour() -> None:
    scores = torch.tensor([[0.5, 0.5, 0.5, 0.2], [0.5, 0.5, 0.5, 0.2]])
    res = rank_by_scores(fixed(scores), 2, [1, 3], [[], []], k=3)
    assert res.target_ranks.tolist() == [1, 4]
    assert sorted(res.topk[0].tolist()) == [0, 1, 2]


def test_masked_items_never_fill_topk_rows_are_padded() -> None:
    scores = torch.tensor([[3.0, 2.0, 1.0]])
    res = rank_by_scores(fixed(scores), 1, [2], [[0, 1]], k=4)
    assert res.topk.tolist() == [[2, -1, -1, -1]]
    assert res.target_ranks.tolist() == [1]


def test_integer_scores_and_caller_tensor_untouched() -> None:
    counts = torch.tensor([[5, 9, 1], [5, 9, 1]])
    before = counts.clone()
    res = rank_by_scores(fixed(counts), 2, [0, 2], [[1], [0]], k=2)
    assert res.target_ranks.tolist() == [1, 2]  # row 1: item1 (9) beats 1, item0 masked
    assert res.topk.tolist() == [[0, 2], [1, 2]]
    assert torch.equal(counts, before)


def brute_force_ranks(scores: np.ndarray, targets: list[int], masks: list[list[int]]) -> list[int]:
    ranks = []
    for row, t, m in zip(scores, targets, masks, strict=True):
        keep = np.ones(len(row), dtype=bool)
        keep[m] = False
        keep[t] = True
        ranks.append(1 + int((row[keep] > row[t]).sum()))
    return ranks


def test_chunking_matches_single_chunk_and_brute_force() -> None:
    rng = np.random.default_rng(0)
    users = rng.normal(size=(10, 4)).astype(np.float32)
    items = rng.normal(size=(7, 4)).astype(np.float32)
    targets = rng.integers(0, 7, size=10).tolist()
    masks = [rng.choice(7, size=int(rng.integers(0, 4)), replace=False).tolist() for _ in range(10)]
    masks[0].append(targets[0])
    small = rank_by_embeddings(users, items, targets, masks, k=5, chunk_size=3)
    whole = rank_by_embeddings(users, items, targets, masks, k=5, chunk_size=1024)
    np.testing.assert_array_equal(small.topk, whole.topk)
    np.testing.assert_array_equal(small.target_ranks, whole.target_ranks)
    np.testing.assert_allclose(small.target_scores, whole.target_scores)
    cosine = (users / np.linalg.norm(users, axis=1, keepdims=True)) @ (
        items / np.linalg.norm(items, axis=1, keepdims=True)
    ).T
    assert small.target_ranks.tolist() == brute_force_ranks(cosine, targets, masks)
    for row, m, t in zip(small.topk, masks, targets, strict=True):
        assert not set(row.tolist()) & (set(m) - {t})  # no history item except the target


def test_cosine_and_dot_product_rank_differently() -> None:
    user = np.array([[1.0, 1.0]], dtype=np.float32)
    items = np.array([[3.0, 0.0], [1.0, 1.0]], dtype=np.float32)  # dot: 3, 2; cosine: .707, 1
    dot = rank_by_embeddings(user, items, [1], [[]], k=2, normalize=False)
    cos = rank_by_embeddings(torch.from_numpy(user), torch.from_numpy(items), [1], [[]], k=2)
    assert dot.topk.tolist() == [[0, 1]] and dot.target_ranks.tolist() == [2]
    assert dot.target_scores.tolist() == pytest.approx([2.0])
    assert cos.topk.tolist() == [[1, 0]] and cos.target_ranks.tolist() == [1]
    assert cos.target_scores.tolist() == pytest.approx([1.0])


@pytest.mark.parametrize(
    ("targets", "masks", "match"),
    [
        ([5], [[]], "target index 5 is outside the catalogue"),
        ([-1], [[]], "target index -1"),
        ([0], [[3]], "mask index 3"),
        ([0, 1], [[]], "one of each per row"),
        ([0.5], [[]], "integer catalogue indices"),
    ],
)
def test_bad_indices_raise_user_error(targets: list, masks: list[list[int]], match: str) -> None:
    with pytest.raises(UserError, match=match):
        rank_by_embeddings(np.ones((1, 2)), np.ones((3, 2)), targets, masks)


def test_bad_shapes_raise_user_error() -> None:
    with pytest.raises(UserError, match="dim 2 but item vectors have dim 3"):
        rank_by_embeddings(np.ones((1, 2)), np.ones((3, 3)), [0], [[]])
    with pytest.raises(UserError, match="2-D"):
        rank_by_embeddings(np.ones(2), np.ones((3, 2)), [0], [[]])
    with pytest.raises(UserError, match="expected \\(1, n_items\\)"):
        rank_by_scores(lambda s, e: torch.ones(2, 3), 1, [0], [[]])
    with pytest.raises(UserError, match="NaN"):
        rank_by_scores(fixed(torch.tensor([[float("nan"), 1.0]])), 1, [0], [[]])
    with pytest.raises(UserError, match="must be positive"):
        rank_by_scores(fixed(SCORES), 1, [0], [[]], k=0)


def test_numpy_scores_are_accepted_and_not_modified() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.3, 0.7]], dtype=np.float64)
    res = rank_by_scores(lambda s, e: scores[s:e], 1, [2], [[1]], k=3)
    assert res.topk.tolist() == [[4, 2, 3]] and res.target_ranks.tolist() == [2]
    assert scores[0, 1] == 0.9


def test_chunks_must_agree_on_catalogue_size() -> None:
    with pytest.raises(UserError, match="same n_items for every chunk"):
        rank_by_scores(lambda s, e: torch.ones(e - s, 3 + s), 2, [0, 0], [[], []], chunk_size=1)


def test_nan_anywhere_outside_the_mask_names_its_row() -> None:
    # rows 0-2 fine, row 3 has a NaN at a non-target, non-masked item (not the top score)
    scores = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    scores[3, 1] = float("nan")
    with pytest.raises(UserError, match="row 3 contain NaN"):
        rank_by_scores(fixed(scores), 4, [0, 0, 0, 4], [[], [], [], [2]], k=2, chunk_size=2)
    # a NaN target score is caught even when k is 1 and the top item is a number
    scores = torch.tensor([[5.0, float("nan"), 1.0]])
    with pytest.raises(UserError, match="row 0 contain NaN"):
        rank_by_scores(fixed(scores), 1, [1], [[]], k=1)
