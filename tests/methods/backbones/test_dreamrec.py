from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest
import torch

import profilerec.methods.backbones.dreamrec as dreamrec_module
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.methods.backbones.dreamrec import (
    DreamRec,
    DreamRecConfig,
    beta_schedule,
    reverse_chain,
    train_dreamrec,
    user_training_sequences,
)
from profilerec.recsys.graph import user_order
from profilerec.recsys.sequences import sasrec_histories, training_sequences
from profilerec.retrieval import NDCG, rank_by_scores

MakeDataset = Callable[..., Dataset]
N_ITEMS = 30
# Small and fast: a few dozen optimiser steps and a 20-step respaced sampling chain.
FAST = DreamRecConfig(dim=32, layers=1, heads=2, epochs=5, batch_size=16, sample_steps=20)


def successor_sequences(n_users: int, length: int, seed: int) -> dict[str, list[str]]:
    """Runs of consecutive items: item i is always followed by item i + 1 (mod N_ITEMS)."""
    rng = random.Random(seed)
    starts = [rng.randrange(N_ITEMS) for _ in range(n_users)]
    return {
        f"u{u:03d}": [f"i{(s + k) % N_ITEMS:02d}" for k in range(length)]
        for u, s in enumerate(starts)
    }


@pytest.fixture
def successor(make_dataset: MakeDataset) -> Dataset:
    return make_dataset(successor_sequences(100, 8, seed=0))


def _config(**kw: object) -> DreamRecConfig:
    return DreamRecConfig(**{**vars(FAST), **kw})  # type: ignore[arg-type]


def _test_ndcg(model: DreamRec, ds: Dataset) -> float:
    test = ds.split("test")
    histories = sasrec_histories(ds, test)
    targets = [ds.item_index[i] for i in test["item_id"]]
    result = rank_by_scores(
        lambda a, b: model.score_histories(histories[a:b]),
        len(targets),
        targets,
        ds.seen_before(test),
        k=10,
    )
    return float(NDCG(10).per_user(result.target_ranks).mean())


def test_learns_the_successor_pattern(successor: Dataset) -> None:
    model = train_dreamrec(successor, FAST)
    # Chance NDCG@10 with 23 unmasked items is about 0.2; the pattern gives 1.
    assert _test_ndcg(model, successor) > 0.8


def test_one_step_is_not_enough(successor: Dataset) -> None:
    """The pattern test above can fail: a single optimiser step does not get there."""
    model = train_dreamrec(successor, _config(epochs=1, batch_size=1000))
    assert _test_ndcg(model, successor) < 0.6


def _with_held_out(sequences: dict[str, list[str]], replace: dict[str, str]) -> dict[str, list]:
    """Same sequences with the last two items (validation and test targets) swapped."""
    return {u: s[:-2] + [replace[x] for x in s[-2:]] for u, s in sequences.items()}


def test_training_never_reads_a_held_out_target(make_dataset: MakeDataset) -> None:
    seqs = successor_sequences(40, 6, seed=1)
    items = [f"i{k:02d}" for k in range(N_ITEMS)]
    shifted = {i: items[(k + 7) % N_ITEMS] for k, i in enumerate(items)}
    a = make_dataset(seqs, catalogue=items)
    b = make_dataset(_with_held_out(seqs, shifted), catalogue=items)
    assert training_sequences(a) == training_sequences(b)
    assert not a.split("test")["item_id"].equals(b.split("test")["item_id"])
    config = _config(epochs=2)
    state_a = train_dreamrec(a, config).state_dict()
    state_b = train_dreamrec(b, config).state_dict()
    assert state_a.keys() == state_b.keys()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    # ... while changing one training item does change the weights.
    seqs_c = dict(seqs)
    first = next(iter(seqs_c))
    seqs_c[first] = [shifted[seqs_c[first][0]], *seqs_c[first][1:]]
    state_c = train_dreamrec(make_dataset(seqs_c, catalogue=items), config).state_dict()
    assert not all(torch.equal(state_a[k], state_c[k]) for k in state_a)


def test_same_seed_same_scores(successor: Dataset) -> None:
    config = _config(epochs=1)
    histories = [[0, 1, 2], [7], []]
    rng_before = torch.random.get_rng_state()
    model = train_dreamrec(successor, config)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # caller's RNG untouched
    a = model.score_histories(histories)
    assert torch.equal(a, model.score_histories(histories))  # sampling is seeded per call
    b = train_dreamrec(successor, config).score_histories(histories)
    c = train_dreamrec(successor, _config(epochs=1, seed=1)).score_histories(histories)
    assert a.shape == (3, N_ITEMS) and torch.isfinite(a).all()
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_null_guidance_is_trained_only_with_dropout(successor: Dataset) -> None:
    """Classifier-free guidance: the null vector replaces c with probability p_uncond."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        null0 = DreamRec(N_ITEMS, FAST).null.detach().clone()
    never = train_dreamrec(successor, _config(p_uncond=0.0, epochs=1))
    often = train_dreamrec(successor, _config(p_uncond=0.5, epochs=1))
    assert null0.shape == (FAST.dim,)
    assert torch.equal(never.null.detach(), null0)
    assert not torch.allclose(often.null.detach(), null0)


def test_guidance_weight_changes_sampling(successor: Dataset) -> None:
    model = train_dreamrec(successor, _config(epochs=1))
    plain = model.score_histories([[3, 4]])
    model.config.guidance_w = 0.0
    assert not torch.allclose(plain, model.score_histories([[3, 4]]))


def test_full_chain_is_the_ddpm_posterior() -> None:
    betas = beta_schedule(_config(timesteps=50))
    abar = torch.cumprod(1 - betas, 0)
    prev = torch.cat([torch.ones(1, dtype=abar.dtype), abar[:-1]])
    chain = reverse_chain(abar, 50)
    assert torch.equal(chain["t"], torch.arange(50))
    torch.testing.assert_close(chain["coef_x0"], (betas * prev.sqrt() / (1 - abar)).float())
    torch.testing.assert_close(
        chain["coef_xt"], ((1 - prev) * (1 - betas).sqrt() / (1 - abar)).float()
    )
    torch.testing.assert_close(chain["std"], (betas * (1 - prev) / (1 - abar)).sqrt().float())
    short = reverse_chain(abar, 5)
    assert short["t"].tolist() == [0, 12, 24, 37, 49]  # evenly spaced, both ends kept
    # The respaced chain jumps from step 49 to 37 with beta = 1 - abar[49] / abar[37].
    torch.testing.assert_close(short["std"][-1] ** 2, _posterior_var(abar, 37, 49))


def _posterior_var(abar: torch.Tensor, s: int, t: int) -> torch.Tensor:
    beta = 1 - abar[t] / abar[s]
    return (beta * (1 - abar[s]) / (1 - abar[t])).float()


def test_sample_steps_can_change_after_training(successor: Dataset) -> None:
    model = train_dreamrec(successor, _config(epochs=1))
    before = model.score_histories([[3, 4]])
    model.config.sample_steps = 3
    assert not torch.allclose(before, model.score_histories([[3, 4]]))


@pytest.mark.parametrize("schedule", ["exp", "linear", "cosine"])
def test_beta_schedules_are_valid(schedule: str) -> None:
    betas = beta_schedule(_config(beta_schedule=schedule, timesteps=200))
    abar = torch.cumprod(1 - betas, 0)
    assert betas.shape == (200,)
    assert ((betas > 0) & (betas < 1)).all()
    assert (abar[1:] < abar[:-1]).all()
    assert abar[0] > 0.95 and abar[-1] < 0.2  # from almost data to mostly noise


def test_eps_target_trains(successor: Dataset) -> None:
    model = train_dreamrec(successor, _config(target="eps", epochs=2))
    scores = model.score_histories([[0, 1, 2]])
    assert scores.shape == (1, N_ITEMS) and torch.isfinite(scores).all()


def test_user_training_sequences_name_their_users(make_dataset: MakeDataset) -> None:
    ds = make_dataset({"u2": ["a", "b", "c", "d"], "u0": ["b", "a", "c"], "u1": list("cdab")})
    users, seqs = user_training_sequences(ds)
    order = user_order(ds)  # u0 has a single training item, so no sequence
    assert [order[u] for u in users] == ["u1", "u2"]
    assert seqs == training_sequences(ds) == [[2, 3], [0, 1]]


def test_user_vectors_enter_the_guidance(successor: Dataset) -> None:
    n_users = len(user_order(successor))
    vecs = np.random.default_rng(0).normal(size=(n_users, 5)).astype(np.float32)
    model = train_dreamrec(successor, _config(epochs=1), user_vecs=vecs)
    a = model.score_histories([[3, 4], [3, 4]], users=[0, 1])
    assert not torch.allclose(a[0], a[1])  # same history, different users
    with pytest.raises(UserError, match="pass the users"):
        model.score_histories([[3, 4]])
    with pytest.raises(UserError, match="user_vecs"):
        train_dreamrec(successor, FAST, user_vecs=vecs[:-1])


def test_item_init_seeds_the_table(successor: Dataset) -> None:
    init = np.random.default_rng(0).normal(size=(N_ITEMS, FAST.dim)).astype(np.float32) * 0.1
    model = train_dreamrec(successor, _config(epochs=1, lr=0.0), item_init=init)
    table = model.seq.item_table[1:].detach()
    torch.testing.assert_close(table, torch.from_numpy(init / init.std(ddof=1)))
    with pytest.raises(UserError, match="item_init"):
        train_dreamrec(successor, FAST, item_init=init[:-1])


def test_early_stopping_keeps_the_best_epoch(
    successor: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted = iter([0.1, 0.5, 0.3, 0.2, 0.9])  # best at epoch 2, then 2 epochs worse
    states: list[dict[str, torch.Tensor]] = []

    def fake_ndcg(score: object, *valid: object) -> float:
        model = score.__self__  # type: ignore[attr-defined]
        states.append({k: v.clone() for k, v in model.state_dict().items()})
        return next(scripted)

    monkeypatch.setattr(dreamrec_module, "valid_ndcg", fake_ndcg)
    model = train_dreamrec(successor, _config(epochs=10, patience=2))
    assert len(states) == 4
    assert all(torch.equal(v, states[1][k]) for k, v in model.state_dict().items())


def test_scores_reject_indices_outside_the_catalogue(successor: Dataset) -> None:
    model = train_dreamrec(successor, _config(epochs=1))
    with pytest.raises(UserError, match="outside the catalogue"):
        model.score_histories([[0, N_ITEMS]])


def test_bad_config_is_a_user_error() -> None:
    with pytest.raises(UserError, match="must divide"):
        DreamRecConfig(dim=10, heads=3)
    with pytest.raises(UserError, match="beta_schedule"):
        DreamRecConfig(beta_schedule="quadratic")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="p_uncond"):
        DreamRecConfig(p_uncond=1.0)
    with pytest.raises(UserError, match="sample_steps"):
        DreamRecConfig(timesteps=10, sample_steps=11)


def test_nothing_to_learn_is_a_user_error(make_dataset: MakeDataset) -> None:
    ds = make_dataset({"u1": ["a", "b", "c"], "u2": ["c", "b", "a"]})
    with pytest.raises(UserError, match="nothing to learn"):
        train_dreamrec(ds, FAST)
