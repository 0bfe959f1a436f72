"""Hand-computed checks of the training graph and the backbones' loss pieces."""

from __future__ import annotations

import math

import pytest
import torch

from _datasets import MakeDataset
from profilerec.data.dataset import Dataset
from profilerec.methods.backbones.ldiffrec import LDiffRec, LDiffRecConfig, timestep_embedding
from profilerec.methods.backbones.lightgcn import LightGCN, LightGCNConfig
from profilerec.methods.backbones.multvae import (
    MultVAE,
    MultVAEConfig,
    gaussian_kl_std,
    multinomial_nll,
)
from profilerec.methods.backbones.simgcl import info_nce
from profilerec.recsys.graph import TrainGraph, bpr_loss, propagate, user_order


@pytest.fixture
def small(make_dataset: MakeDataset) -> Dataset:
    # Leave-last-out holds out each user's last two items (x, y), so the train pairs are
    # u1: a, b   u2: b   u3: c
    return make_dataset(
        {"u1": ["a", "b", "x", "y"], "u2": ["b", "x", "y"], "u3": ["c", "x", "y"]},
        catalogue=["a", "b", "c", "x", "y"],
    )


def test_graph_pairs_and_order(small: Dataset) -> None:
    graph = TrainGraph.from_dataset(small)
    assert graph.user_ids == user_order(small) == ["u1", "u2", "u3"]
    assert list(zip(graph.users.tolist(), graph.items.tolist(), strict=True)) == [
        (0, 0), (0, 1), (1, 1), (2, 2)
    ]  # fmt: skip
    torch.testing.assert_close(
        graph.rows(torch.tensor([2, 0])),
        torch.tensor([[0.0, 0, 1, 0, 0], [1.0, 1, 0, 0, 0]]),
    )


def test_adjacency_is_symmetrically_normalised(small: Dataset) -> None:
    adj = TrainGraph.from_dataset(small).adjacency().to_dense()
    n_users = 3
    # Degrees: u1 2, u2 1, u3 1; a 1, b 2, c 1.
    expected = {(0, 0): 1 / math.sqrt(2), (0, 1): 1 / 2, (1, 1): 1 / math.sqrt(2), (2, 2): 1.0}
    dense = torch.zeros(8, 8)
    for (u, i), v in expected.items():
        dense[u, n_users + i] = dense[n_users + i, u] = v
    torch.testing.assert_close(adj, dense)


def test_propagate_averages_layers() -> None:
    adj = torch.tensor([[0.0, 1.0], [1.0, 0.0]]).to_sparse()
    ego = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    # Layer 1 swaps the rows, layer 2 swaps them back.
    torch.testing.assert_close(propagate(adj, ego, 1), torch.tensor([[0.5, 1.0], [0.5, 1.0]]))
    torch.testing.assert_close(
        propagate(adj, ego, 2, include_ego=False), torch.tensor([[0.5, 1.0], [0.5, 1.0]])
    )
    torch.testing.assert_close(
        propagate(adj, ego, 2), torch.tensor([[2 / 3, 2 / 3], [1 / 3, 4 / 3]])
    )


def test_simgcl_noise_has_length_eps_and_keeps_the_sign() -> None:
    identity = torch.eye(3).to_sparse()
    ego = torch.tensor([[1.0, -2.0], [-3.0, 4.0], [5.0, 6.0]])
    out = propagate(
        identity, ego, 1, include_ego=False, noise_eps=0.1, gen=torch.Generator().manual_seed(0)
    )
    noise = out - ego
    torch.testing.assert_close(noise.norm(dim=1), torch.full((3,), 0.1))
    assert bool((torch.sign(noise) == torch.sign(ego)).all())


def test_negatives_avoid_training_items(small: Dataset) -> None:
    graph = TrainGraph.from_dataset(small)
    users = torch.zeros(2000, dtype=torch.long)  # u1 trained on a, b
    neg = graph.sample_negatives(users, torch.Generator().manual_seed(0))
    assert set(neg.tolist()) == {2, 3, 4}


def test_bpr_and_info_nce_hand_values() -> None:
    u, p, n = torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    assert bpr_loss(u, p, n).item() == pytest.approx(math.log1p(math.exp(-1)))
    views = torch.eye(3)  # orthogonal rows, both views identical
    expected = -math.log(math.exp(1 / 0.5) / (math.exp(1 / 0.5) + 2))
    assert info_nce(views, views, 0.5).item() == pytest.approx(expected)


def test_multinomial_and_kl_hand_values() -> None:
    logits, rows = torch.zeros(1, 4), torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    assert multinomial_nll(logits, rows).item() == pytest.approx(2 * math.log(4))
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(2.0)]])
    # 0.5 * (1 + 1 - 1 - 0) + 0.5 * (0 + 2 - 1 - log 2)
    assert gaussian_kl_std(mu, logvar).item() == pytest.approx(0.5 + 0.5 * (1 - math.log(2)))


def test_multvae_kl_is_annealed(small: Dataset) -> None:
    model = MultVAE(TrainGraph.from_dataset(small), MultVAEConfig(anneal_cap=0.2, anneal_steps=100))
    mu, logvar = torch.ones(1, 64), torch.zeros(1, 64)  # KL = 32
    assert model.kl_loss(mu, logvar, 0).item() == 0.0
    assert model.kl_loss(mu, logvar, 10).item() == pytest.approx(0.1 * 32)
    assert model.kl_loss(mu, logvar, 1000).item() == pytest.approx(0.2 * 32)


def test_ldiffrec_schedule_and_reverse_step(small: Dataset) -> None:
    cfg = LDiffRecConfig(steps=4, noise_scale=0.5, noise_min=1e-3, noise_max=4e-3)
    model = LDiffRec(TrainGraph.from_dataset(small), cfg)
    # "linear-var": 1 - alpha_bar_t runs linearly from 0.5e-3 to 2e-3.
    torch.testing.assert_close(1 - model.abar, torch.tensor([5e-4, 1e-3, 1.5e-3, 2e-3]))
    # At t = 0 the posterior mean is the predicted z0 itself.
    assert model.coef_x0[0].item() == pytest.approx(1.0) and model.coef_xt[0].item() == 0.0
    # The posterior mean is unbiased: for z_t = sqrt(abar_t) z0 it maps back to sqrt(abar_{t-1}) z0.
    abar_prev = torch.cat([torch.ones(1), model.abar[:-1]])
    torch.testing.assert_close(
        model.coef_x0 + model.coef_xt * model.abar.sqrt(), abar_prev.sqrt(), atol=1e-5, rtol=0
    )
    emb = timestep_embedding(torch.tensor([0, 3]), 5)
    assert emb.shape == (2, 5)
    torch.testing.assert_close(emb[0], torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0]))


def test_lightgcn_scores_are_propagated_dot_products(small: Dataset) -> None:
    torch.manual_seed(0)
    model = LightGCN(TrainGraph.from_dataset(small), LightGCNConfig(dim=4, layers=1))
    users, items = model.representations()
    torch.testing.assert_close(model.score_users(torch.tensor([1])), users[[1]] @ items.T)
    # One layer: u2 (degree 1, item b of degree 2) = mean(e_u2, e_b / sqrt(2)).
    expected = (model.user_emb[1] + model.item_emb[1] / math.sqrt(2)) / 2
    torch.testing.assert_close(users[1], expected)
