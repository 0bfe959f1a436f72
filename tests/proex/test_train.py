from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.methods.backbones.lightgcn import LightGCNConfig
from profilerec.methods.backbones.multvae import MultVAEConfig
from profilerec.methods.proex import (
    BACKBONE_CONFIGS,
    ProExConfig,
    evaluate_backbone,
    fit_backbone,
    train_proex,
)
from profilerec.recsys.graph import TrainGraph, user_order

from .conftest import cluster_profiles, clustered

# Small-toy settings, each trains in about a second single-threaded. SimGCL's default
# contrastive weight is tuned for graphs of 10^4+ nodes; on this 64-node toy every node is
# in every batch's InfoNCE, the uniformity term outweighs BPR and the embeddings never grow
# (hr@5 0.05), so the toy lowers it and raises the learning rate.
TOY = {
    "lightgcn": dict(epochs=20, batch_size=32),
    "simgcl": dict(epochs=20, batch_size=32, lr=1e-2, cl_weight=0.05),
    "multvae": dict(epochs=30, batch_size=16, lr=3e-3),
    "ldiffrec": dict(epochs=30, batch_size=16, lr=3e-3),
}
DISCRIMINATIVE = ("lightgcn", "simgcl")


def _config(name: str, seed: int = 0, **proex: object) -> ProExConfig:
    return ProExConfig(backbone_config=BACKBONE_CONFIGS[name](**TOY[name]), seed=seed, **proex)  # type: ignore[arg-type]


def _labels(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    users = np.array([int(u[1:]) % 2 for u in user_order(ds)])
    items = np.array([0 if i.startswith("a") else 1 for i in ds.item_ids])
    return users, items


def _pairs(ds: Dataset, split: str) -> set[tuple[str, str]]:
    ex = ds.split(split)
    return set(zip(ex["user_id"], ex["item_id"], strict=True))


def test_training_graph_holds_exactly_the_training_pairs(toy: Dataset) -> None:
    graph = TrainGraph.from_dataset(toy)
    users, items = graph.user_ids, toy.item_ids
    built = {(users[u], items[i]) for u, i in zip(graph.users, graph.items, strict=True)}
    # Per user of the toy: 8 items, the last two are the validation and test targets.
    seqs = toy.interactions.group_by("user_id", maintain_order=True).agg("item_id")
    expected = {(u, i) for u, seq in seqs.iter_rows() for i in seq[:-2]}
    assert built == expected and len(built) == 40 * 6
    held_out = _pairs(toy, "valid") | _pairs(toy, "test")
    assert len(held_out) == 80 and not built & held_out
    dense = graph.adjacency().to_dense()
    rows = graph.rows(torch.arange(graph.n_users))
    for user, item in held_out:
        u, i = graph.user_index[user], toy.item_index[item]
        assert dense[u, graph.n_users + i] == 0 and dense[graph.n_users + i, u] == 0
        assert rows[u, i] == 0
    assert rows.sum() == len(expected)


def test_later_interactions_never_reach_training(tmp_path: Path) -> None:
    # A late interaction with a training item (timestamp after the test target) is dropped.
    from _datasets import write_dataset

    ds = write_dataset(
        tmp_path / "d", {"u1": ["a", "b", "c", "d", "b"]}, catalogue=["a", "b", "c", "d"]
    )
    graph = TrainGraph.from_dataset(ds)
    assert graph.items.tolist() == [0, 1, 2]  # a b c: d and the repeat of b are held out
    # ...and leave-last-out makes "b" (5th) the test target, "d" the validation target.
    assert _pairs(ds, "test") == {("u1", "b")}


@pytest.mark.parametrize("name", list(TOY))
def test_each_backbone_learns_the_clusters(toy: Dataset, name: str) -> None:
    model = fit_backbone(toy, name, BACKBONE_CONFIGS[name](**TOY[name]))  # type: ignore[arg-type]
    assert not model.uses_profiles and not model.training
    table = evaluate_backbone(model, toy, "test", ks=(5,))
    # 24 items, 7 masked: the target is one of the 5 unseen items of the user's cluster
    # among 17 candidates. Ranking the cluster first gives hr@5 = 1; chance is 5/17.
    assert table["hr@5"].shape == (40,)
    assert table["hr@5"].mean() >= 0.9


@pytest.mark.parametrize("name", list(TOY))
def test_informative_profiles_beat_or_match_the_plain_backbone(tmp_path: Path, name: str) -> None:
    # Sparse: 2 training items per user. 9 unseen same-cluster items among 21 candidates,
    # so a cluster-perfect ranking has hr@9 = 1 (chance 9/21).
    ds = clustered(tmp_path / "sparse", length=4)
    user_labels, item_labels = _labels(ds)
    users = cluster_profiles(user_labels, k=3)
    items = cluster_profiles(item_labels, k=3, seed=1) if name in DISCRIMINATIVE else None
    plain = train_proex(ds, name, None, None, _config(name))
    proex = train_proex(ds, name, users, items, _config(name))
    assert proex.uses_profiles
    hr_plain = evaluate_backbone(plain, ds, "test", ks=(9,))["hr@9"].mean()
    hr_proex = evaluate_backbone(proex, ds, "test", ks=(9,))["hr@9"].mean()
    assert hr_proex >= hr_plain
    assert hr_proex >= 0.9


def test_evaluation_ranks_model_scores_with_the_past_masked(toy: Dataset) -> None:
    model = fit_backbone(toy, "lightgcn", LightGCNConfig(epochs=2))
    table = evaluate_backbone(model, toy, "valid", ks=(3,))
    ex = toy.split("valid")
    index = model.user_index
    scores = model.score_users(torch.tensor([index[u] for u in ex["user_id"]])).numpy()
    masks = toy.seen_before(ex)
    targets = [toy.item_index[i] for i in ex["item_id"]]
    for row, (mask, target) in enumerate(zip(masks, targets, strict=True)):
        assert len(mask) == 6  # the 6 training items of the user
        free = np.setdiff1d(np.arange(len(toy.item_ids)), mask)
        rank = 1 + int((scores[row, free] > scores[row, target]).sum())
        assert table["mrr"][row] == pytest.approx(1 / rank)
        assert table["hr@3"][row] == float(rank <= 3)


def test_training_is_seeded_and_keeps_the_callers_rng(toy: Dataset) -> None:
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    user_labels, _ = _labels(toy)
    profiles = cluster_profiles(user_labels, k=2)
    a = train_proex(toy, "multvae", profiles, None, _config("multvae", seed=3))
    assert torch.equal(torch.random.get_rng_state(), before)
    b = train_proex(toy, "multvae", profiles, None, _config("multvae", seed=3))
    users = torch.arange(5)
    assert torch.equal(a.score_users(users), b.score_users(users))


def test_patience_stops_early_and_keeps_the_best_validation_state(
    toy: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    from profilerec.methods.proex import train as train_module

    seen: list[float] = []

    def recording(*args: object, **kwargs: object) -> dict[str, np.ndarray]:
        table = evaluate_backbone(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(float(table["ndcg@10"].mean()))
        return table

    monkeypatch.setattr(train_module, "evaluate_backbone", recording)
    config = ProExConfig(
        backbone_config=LightGCNConfig(epochs=200, batch_size=32), patience=2, eval_every=1
    )
    model = train_proex(toy, "lightgcn", None, None, config)
    assert len(seen) < 200  # stopped early: the last two checks did not beat the best
    assert max(seen[-2:]) <= max(seen[:-2])
    final = evaluate_backbone(model, toy, "valid", ks=(10,))["ndcg@10"].mean()
    assert final == pytest.approx(max(seen))  # the best state was restored


def test_user_mistakes_are_user_errors(toy: Dataset) -> None:
    n_users, n_items = len(user_order(toy)), len(toy.item_ids)
    with pytest.raises(UserError, match="unknown backbone"):
        train_proex(toy, "bpr-mf", None, None, ProExConfig())
    with pytest.raises(UserError, match="needs a LightGCNConfig"):
        train_proex(toy, "lightgcn", None, None, ProExConfig(backbone_config=MultVAEConfig()))
    with pytest.raises(UserError, match=r"user_profile_emb must have shape \[40, K, d\]"):
        train_proex(toy, "lightgcn", np.zeros((n_users - 1, 2, 4)), None, ProExConfig())
    with pytest.raises(UserError, match="NaN"):
        train_proex(toy, "lightgcn", np.full((n_users, 2, 4), np.nan), None, ProExConfig())
    with pytest.raises(UserError, match="no item profiles"):
        train_proex(toy, "multvae", None, np.zeros((n_items, 2, 4)), ProExConfig())
    with pytest.raises(UserError, match="n_envs"):
        ProExConfig(n_envs=0)


def test_two_dimensional_profiles_mean_one_profile(toy: Dataset) -> None:
    user_labels, _ = _labels(toy)
    users = cluster_profiles(user_labels, k=1)[:, 0]  # [n_users, d]
    model = train_proex(toy, "lightgcn", users, None, _config("lightgcn"))
    assert model.user_bank is not None and model.user_bank.k == 1
    assert evaluate_backbone(model, toy, "test", ks=(5,))["hr@5"].mean() >= 0.9
