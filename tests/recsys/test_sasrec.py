from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

import profilerec.recsys.sasrec as sasrec_module
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.sasrec import (
    SASRec,
    SASRecConfig,
    sasrec_histories,
    train_sasrec,
    training_sequences,
)
from profilerec.recsys.sequences import windows

MakeDataset = Callable[..., Dataset]
N_ITEMS = 30
# Small and fast, with enough optimiser steps to learn a deterministic pattern.
FAST = SASRecConfig(hidden=32, layers=1, heads=2, dropout=0.1, epochs=15, batch_size=16, lr=5e-3)


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


def test_training_sequences_are_time_ordered_and_stop_before_targets(
    make_dataset: MakeDataset,
) -> None:
    ds = make_dataset(
        {
            "u1": ["c", "a", "d", "b", "e"],  # valid b, test e
            "u2": ["b", "a", "c"],  # a single training item: nothing to learn from
            "u3": ["e", "d", "c", "b", "a"],  # given out of time order, see times
        },
        times={"u3": [5000, 1000, 2000, 2000, 9000]},  # d, then c/b tied, then e, a
    )
    # Catalogue a..e = 0..4. u3 in time order: d c b e a (the c/b tie keeps file order),
    # so its valid target is e and its test target a.
    assert training_sequences(ds) == [[2, 0, 3], [3, 2, 1]]


def test_no_training_sequence_holds_a_validation_or_test_target(successor: Dataset) -> None:
    held_out = successor.examples.filter(successor.examples["split"] != "train")
    targets: dict[str, set[int]] = {}
    for user, item in held_out.select("user_id", "item_id").iter_rows():
        targets.setdefault(user, set()).add(successor.item_index[item])
    seqs = training_sequences(successor)
    users = sorted(targets)  # training_sequences lists users in user_id order
    assert len(seqs) == len(users) == 100
    for user, seq in zip(users, seqs, strict=True):
        assert len(seq) == 6  # 8 items minus the valid and test targets
        assert not targets[user] & set(seq)


def test_histories_see_the_whole_past_but_never_the_target(make_dataset: MakeDataset) -> None:
    items = [f"i{k:02d}" for k in range(25)]
    ds = make_dataset({"u": items}, catalogue=items)
    test = ds.split("test")
    valid = ds.split("valid")
    assert len(test["history"][0]) == 20  # the prompt history is cut at 20 ...
    assert sasrec_histories(ds, test) == [list(range(24))]  # ... this one is not
    assert sasrec_histories(ds, valid) == [list(range(23))]
    assert sasrec_histories(ds, test, max_len=3) == [[21, 22, 23]]


def test_windows_cover_every_label_once() -> None:
    assert windows(list(range(7)), 3) == [[3, 4, 5, 6], [0, 1, 2, 3]]
    assert windows([4, 9], 50) == [[4, 9]]


@pytest.mark.parametrize("loss", ["ce", "bce"])
def test_learns_the_successor_pattern(successor: Dataset, loss: str) -> None:
    config = SASRecConfig(**{**vars(FAST), "loss": loss, "epochs": 20 if loss == "bce" else 15})
    model = train_sasrec(successor, config, progress=False)
    test = successor.split("test")
    histories = sasrec_histories(successor, test)
    scores = model.score_histories(histories)
    for row, seen in enumerate(histories):  # the protocol masks the user's past
        scores[row, seen] = float("-inf")
    top1 = scores.argmax(1).numpy()
    targets = np.array([successor.item_index[i] for i in test["item_id"]])
    # Test targets are never trained on for their user; chance is 1/23 after masking.
    assert (top1 == targets).mean() > 0.8


def test_same_seed_same_model(successor: Dataset) -> None:
    config = SASRecConfig(**{**vars(FAST), "epochs": 2})
    histories = [[0, 1, 2], [7], []]
    rng_before = torch.random.get_rng_state()
    a = train_sasrec(successor, config, progress=False).score_histories(histories)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # caller's RNG untouched
    b = train_sasrec(successor, config, progress=False).score_histories(histories)
    other = SASRecConfig(**{**vars(config), "seed": 1})
    c = train_sasrec(successor, other, progress=False).score_histories(histories)
    assert a.shape == (3, N_ITEMS)
    assert torch.isfinite(a).all()
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("init_dim", [None, 8])
def test_save_load_round_trip(successor: Dataset, tmp_path: Path, init_dim: int | None) -> None:
    config = SASRecConfig(**{**vars(FAST), "epochs": 1})
    init = None if init_dim is None else np.random.default_rng(0).normal(size=(N_ITEMS, 8))
    model = train_sasrec(successor, config, item_init=init, progress=False)
    model.save(tmp_path / "sasrec.pt")
    loaded = SASRec.load(tmp_path / "sasrec.pt")
    histories = [[3, 4, 5], [29, 0]]
    assert loaded.config == config
    assert torch.equal(model.score_histories(histories), loaded.score_histories(histories))


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    with pytest.raises(UserError, match="not a SASRec checkpoint"):
        SASRec.load(path)


@pytest.mark.parametrize("shape", [(N_ITEMS - 1, 32), (N_ITEMS,)])
def test_item_init_shape_mismatch_is_a_user_error(successor: Dataset, shape: tuple) -> None:
    with pytest.raises(UserError, match="item_init must have shape"):
        train_sasrec(successor, FAST, item_init=np.zeros(shape), progress=False)


@pytest.mark.parametrize("init_dim", [32, 8])  # 32 = hidden: used as is; 8: projected
def test_frozen_item_init_stays_fixed(successor: Dataset, init_dim: int) -> None:
    config = SASRecConfig(**{**vars(FAST), "epochs": 1})
    init = np.random.default_rng(0).normal(size=(N_ITEMS, init_dim)).astype(np.float32)
    frozen = train_sasrec(successor, config, item_init=init, freeze_items=True, progress=False)
    free = train_sasrec(successor, config, item_init=init, progress=False)
    assert torch.equal(frozen.item_table[1:].detach(), torch.from_numpy(init))
    assert not torch.allclose(free.item_table[1:].detach(), torch.from_numpy(init))


def test_early_stopping_keeps_the_best_epoch(
    successor: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted = iter([0.1, 0.5, 0.3, 0.2, 0.9])  # best at epoch 2, then 2 epochs worse
    states: list[dict[str, torch.Tensor]] = []

    def fake_ndcg(model: SASRec, histories: list[list[int]], targets: list[int]) -> float:
        states.append({k: v.clone() for k, v in model.state_dict().items()})
        return next(scripted)

    monkeypatch.setattr(sasrec_module, "_valid_ndcg", fake_ndcg)
    config = SASRecConfig(**{**vars(FAST), "epochs": 10, "patience": 2})
    model = train_sasrec(successor, config, progress=False)
    assert len(states) == 4
    best = states[1]
    assert all(torch.equal(v, best[k]) for k, v in model.state_dict().items())
    assert not all(torch.equal(v, states[3][k]) for k, v in model.state_dict().items())


def test_patience_needs_validation_examples(make_dataset: MakeDataset) -> None:
    ds = make_dataset({"u1": ["a", "b", "c"], "u2": ["c", "b", "a"]}, with_valid=False)
    with pytest.raises(UserError, match="validation"):
        train_sasrec(ds, SASRecConfig(patience=2), progress=False)


def test_scores_reject_indices_outside_the_catalogue(successor: Dataset) -> None:
    model = train_sasrec(successor, SASRecConfig(**{**vars(FAST), "epochs": 1}), progress=False)
    with pytest.raises(UserError, match="outside the catalogue"):
        model.score_histories([[0, N_ITEMS]])


def test_bad_config_is_a_user_error() -> None:
    with pytest.raises(UserError, match="must divide"):
        SASRecConfig(hidden=10, heads=3)
    with pytest.raises(UserError, match="'ce' or 'bce'"):
        SASRecConfig(loss="mse")  # type: ignore[arg-type]


def test_bce_negatives_avoid_the_window() -> None:
    gen = torch.Generator().manual_seed(0)
    batch = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]]).repeat(64, 1)  # internal indices
    neg = sasrec_module.negatives(batch, 6, gen)
    assert neg.shape == batch.shape
    assert ((neg >= 1) & (neg <= 6)).all()
    first, second = neg[0::2], neg[1::2]
    assert set(first.unique().tolist()) == {4, 5, 6}  # never 1, 2 or 3
    assert set(second.unique().tolist()) == {1, 2, 3, 6}
