from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from profilerec.data.dataset import Dataset
from profilerec.methods.backbones.ldiffrec import LDiffRec, LDiffRecConfig
from profilerec.methods.backbones.lightgcn import LightGCN, LightGCNConfig
from profilerec.methods.backbones.multvae import MultVAE, MultVAEConfig
from profilerec.methods.backbones.simgcl import SimGCL, SimGCLConfig
from profilerec.methods.proex.config import ProExConfig
from profilerec.methods.proex.environments import environment_weights
from profilerec.methods.proex.fusion import (
    _combine,
    cosine_gap,
    discriminative_loss,
    gaussian_kl,
    generative_loss,
)
from profilerec.methods.proex.model import ProExModel
from profilerec.recsys.graph import TrainGraph


def test_gaussian_kl_hand_values() -> None:
    zeros = torch.zeros(1, 3)
    # Shift of 1 in each of 3 dims at unit variance: 3 * 1/2.
    assert gaussian_kl(torch.ones(1, 3), zeros, zeros, zeros).item() == pytest.approx(1.5)
    # N(0, 1) vs N(0, 4) in 3 dims: 3 * (log 4 + 1/4 - 1) / 2.
    log4 = torch.full((1, 3), math.log(4.0))
    assert gaussian_kl(zeros, zeros, zeros, log4).item() == pytest.approx(
        1.5 * (math.log(4) - 0.75)
    )
    # Reverse and forward KL differ: N(0, 4) vs N(0, 1) is (4 - 1 - log 4) / 2 per dim.
    assert gaussian_kl(zeros, log4, zeros, zeros).item() == pytest.approx(1.5 * (3 - math.log(4)))


def test_cosine_gap() -> None:
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    assert cosine_gap(a, b).item() == pytest.approx(0.5)  # gaps 0 and 1


def test_combine_weights_every_term() -> None:
    config = ProExConfig(align_weight=0.1, l2_weight=0.01, var_weight=0.5)
    terms = _combine(
        torch.tensor([1.0, 3.0]), torch.tensor(0.5), torch.tensor(2.0), torch.tensor(4.0), config
    )
    # mean 2 + base 0.5 + 0.1 * 2 + 0.01 * 4 + 0.5 * var(1, 3) = 1
    assert terms.total.item() == pytest.approx(2 + 0.5 + 0.2 + 0.04 + 0.5)
    assert terms.var.item() == pytest.approx(1.0)


def _profiles(n: int, k: int, *, identical: bool = False, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 1 if identical else k, 6)).astype(np.float32)
    return np.repeat(base, k, axis=1) if identical else base


def _disc_terms(toy: Dataset, cls: type, cfg: object, k: int, identical: bool = False) -> object:
    graph = TrainGraph.from_dataset(toy)
    config = ProExConfig(n_envs=4)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    users_v = _profiles(graph.n_users, k, identical=identical)
    items_v = _profiles(graph.n_items, k, identical=identical, seed=1)
    model = ProExModel(cls(graph, cfg), graph, config, users_v, items_v)
    batch = torch.arange(16)
    users, pos = torch.from_numpy(graph.users)[batch], torch.from_numpy(graph.items)[batch]
    neg = graph.sample_negatives(users, gen)
    weights = (environment_weights(4, 1.0, k), environment_weights(4, 1.0, k))
    return discriminative_loss(
        model.backbone, model.user_bank, model.item_bank, (users, pos, neg), weights, gen, config
    )


@pytest.mark.parametrize(
    ("cls", "cfg"),
    [(LightGCN, LightGCNConfig()), (SimGCL, SimGCLConfig())],
    ids=["lightgcn", "simgcl"],
)
def test_discriminative_variance_zero_only_when_environments_agree(
    toy: Dataset, cls: type, cfg: object
) -> None:
    one = _disc_terms(toy, cls, cfg, k=1)
    assert one.env_losses.shape == (4,)
    assert len(set(one.env_losses.tolist())) == 1  # bitwise-equal environments
    assert one.var.item() == 0.0
    same = _disc_terms(toy, cls, cfg, k=3, identical=True)  # equal up to rounding of sum(w)
    assert same.var.item() < 1e-12
    distinct = _disc_terms(toy, cls, cfg, k=3)
    assert distinct.var.item() > 1e-8
    assert distinct.align.item() > 0 and distinct.l2.item() > 0


def _gen_terms(toy: Dataset, cls: type, cfg: object, k: int) -> object:
    graph = TrainGraph.from_dataset(toy)
    config = ProExConfig(n_envs=5)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = ProExModel(cls(graph, cfg), graph, config, _profiles(graph.n_users, k), None)
    return generative_loss(
        model.backbone,
        model.user_gaussian,
        torch.arange(8),
        environment_weights(5, 1.0, k),
        step=10,
        gen=gen,
        config=config,
    )


@pytest.mark.parametrize(
    ("cls", "cfg"),
    [(MultVAE, MultVAEConfig()), (LDiffRec, LDiffRecConfig())],
    ids=["multvae", "ldiffrec"],
)
def test_generative_variance_zero_only_when_environments_agree(
    toy: Dataset, cls: type, cfg: object
) -> None:
    # Every environment shares the same latent, profile and diffusion noise, so with one
    # profile the environments are identical and their variance is exactly zero.
    one = _gen_terms(toy, cls, cfg, k=1)
    assert one.env_losses.shape == (5,)
    assert one.var.item() == 0.0
    distinct = _gen_terms(toy, cls, cfg, k=3)
    assert distinct.var.item() > 1e-8
    assert distinct.align.item() > 0
