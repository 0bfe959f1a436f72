from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from _datasets import write_dataset
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.methods.backbones.dreamrec import DreamRecConfig, train_dreamrec
from profilerec.methods.pte.backbones import (
    PtEBackboneConfig,
    evaluate_pte_backbone,
    principal_init,
    train_pte_backbone,
)
from profilerec.recsys.graph import user_order
from profilerec.recsys.sasrec import SASRec, SASRecConfig, sasrec_histories, train_sasrec

# Tiny settings: each training run takes well under a second on one thread.
BACKBONES: dict[str, SASRecConfig | DreamRecConfig] = {
    "sasrec": SASRecConfig(hidden=32, layers=1, heads=2, epochs=20, batch_size=16, lr=5e-3),
    "dreamrec": DreamRecConfig(dim=32, epochs=20, batch_size=16, sample_steps=50),
}
K, PER = 6, 10  # clusters, items per cluster


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread: None) -> Iterator[None]:
    yield


CATALOGUE = [f"c{c}i{j:02d}" for c in range(K) for j in range(PER)]


def cold_sequences(n_users: int = 30, seed: int = 0) -> dict[str, list[str]]:
    """K clusters of PER items; each user takes 4 items of one cluster in random order, so
    2 training items per user and most items are seen once or never in training (cold)."""
    rng = np.random.default_rng(seed)
    clusters = [CATALOGUE[c * PER : (c + 1) * PER] for c in range(K)]
    return {f"u{n:03d}": list(rng.permutation(clusters[n % K])[:4]) for n in range(n_users)}


def cold_clusters(root: Path, *, n_users: int = 30, seed: int = 0) -> Dataset:
    return write_dataset(root, cold_sequences(n_users, seed), catalogue=CATALOGUE)


def profiles(labels: np.ndarray, seed: int, dim: int = 16, noise: float = 0.1) -> np.ndarray:
    """Each row: its cluster's one-hot plus noise (a profile embedding that knows the cluster)."""
    rng = np.random.default_rng(seed)
    onehot = np.eye(dim, dtype=np.float32)[labels]
    return (onehot + noise * rng.standard_normal(onehot.shape)).astype(np.float32)


def item_profiles(ds: Dataset) -> np.ndarray:
    return profiles(np.array([int(i[1 : i.index("i")]) for i in ds.item_ids]), seed=1)


def user_profiles(ds: Dataset) -> np.ndarray:
    return profiles(np.array([int(u[1:]) % K for u in user_order(ds)]), seed=2)


@pytest.fixture
def cold(tmp_path: Path) -> Dataset:
    return cold_clusters(tmp_path / "cold")


def _config(backbone: str, **kw: object) -> PtEBackboneConfig:
    return PtEBackboneConfig(backbone=backbone, backbone_config=BACKBONES[backbone], **kw)  # type: ignore[arg-type]


def _ndcg(model: object, ds: Dataset) -> float:
    return float(evaluate_pte_backbone(model, ds, "test")["ndcg@10"].mean())  # type: ignore[arg-type]


def _plain(ds: Dataset, backbone: str) -> torch.nn.Module:
    bcfg = BACKBONES[backbone]
    if isinstance(bcfg, SASRecConfig):
        return train_sasrec(ds, bcfg, progress=False)
    return train_dreamrec(ds, bcfg)


@pytest.mark.parametrize("backbone", ["sasrec", "dreamrec"])
def test_id_only_equals_the_plain_backbone(cold: Dataset, backbone: str) -> None:
    plain = _plain(cold, backbone)
    pte = train_pte_backbone(cold, _config(backbone))  # no vectors: ID-only
    # Vectors given but switched off in the config: the same ID-only model.
    off = train_pte_backbone(
        cold,
        _config(backbone, item_fusion="none", use_user_profiles=False),
        item_vecs=item_profiles(cold),
        user_vecs=user_profiles(cold),
    )
    assert not pte.uses_item_profiles and not pte.uses_user_profiles
    plain_state = plain.state_dict()
    for model in (pte, off):
        state = model.base.state_dict()
        assert state.keys() == plain_state.keys()
        assert all(torch.equal(state[k], plain_state[k]) for k in state)
    test = cold.split("test")
    histories = sasrec_histories(cold, test)
    rows = [pte.user_index[u] for u in test["user_id"]]
    expected = plain.score_histories(histories)  # type: ignore[operator]
    assert torch.equal(pte.score_histories(histories, rows), expected)


@pytest.mark.parametrize("change", [{"loss": "bce"}, {"patience": 1}])
def test_id_only_equals_plain_sasrec_with_bce_and_early_stopping(
    cold: Dataset, change: dict[str, object]
) -> None:
    bcfg = SASRecConfig(**{**vars(BACKBONES["sasrec"]), "epochs": 6, **change})  # type: ignore[arg-type]
    plain = train_sasrec(cold, bcfg, progress=False)
    pte = train_pte_backbone(cold, PtEBackboneConfig(backbone="sasrec", backbone_config=bcfg))
    assert all(torch.equal(v, plain.state_dict()[k]) for k, v in pte.base.state_dict().items())


@pytest.mark.parametrize("backbone", ["sasrec", "dreamrec"])
@pytest.mark.parametrize("fusion", ["init", "add", "replace"])
def test_item_profiles_help_cold_items(cold: Dataset, backbone: str, fusion: str) -> None:
    """21 of 60 items never occur in training (half the test targets are among them), most
    others once. Profiles that know each item's cluster let the backbone rank the right
    cluster; IDs alone cannot (random NDCG@10 is about 0.08)."""
    id_only = _ndcg(train_pte_backbone(cold, _config(backbone)), cold)
    config = _config(backbone, item_fusion=fusion, use_user_profiles=False)
    model = train_pte_backbone(cold, config, item_vecs=item_profiles(cold))
    assert model.uses_item_profiles
    with_profiles = _ndcg(model, cold)
    assert id_only < 0.2
    assert with_profiles > id_only + 0.1


@pytest.mark.parametrize("backbone", ["sasrec", "dreamrec"])
def test_user_profiles_enter_the_scores(cold: Dataset, backbone: str) -> None:
    config = _config(backbone, item_fusion="none")
    model = train_pte_backbone(cold, config, user_vecs=user_profiles(cold))
    assert model.uses_user_profiles and not model.uses_item_profiles
    scores = model.score_histories([[0, 1], [0, 1]], [0, 1])  # users of different clusters
    assert not torch.allclose(scores[0], scores[1])


def test_init_fusion_seeds_the_table_with_principal_components() -> None:
    prof = torch.from_numpy(profiles(np.repeat([0, 1], 5), seed=0, dim=8))
    table = torch.randn(11, 4) * 0.5
    out = principal_init(prof, table)
    assert torch.equal(out[0], table[0])  # the padding row is left alone
    signs = torch.sign(out[1:, 0])  # the first component separates the two clusters
    assert signs[:5].unique().numel() == signs[5:].unique().numel() == 1
    assert signs[0] == -signs[5]
    torch.testing.assert_close(out[1:].std(), table[1:].std(), rtol=0.2, atol=0.0)


def test_replace_trains_no_id_table(cold: Dataset) -> None:
    config = _config("sasrec", item_fusion="replace", use_user_profiles=False)
    vecs = item_profiles(cold)
    model = train_pte_backbone(cold, config, item_vecs=vecs)
    assert not model.base.item_table.requires_grad
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(BACKBONES["sasrec"].seed)
        fresh = SASRec(len(cold.item_ids), BACKBONES["sasrec"])  # type: ignore[arg-type]
    assert torch.equal(model.base.item_table, fresh.item_table)  # never updated
    # The scores come from the profiles: reversing the profiles' rows changes them.
    flipped = train_pte_backbone(cold, config, item_vecs=vecs[::-1].copy())
    h = [[0, 1]]
    assert not torch.allclose(model.score_histories(h, [0]), flipped.score_histories(h, [0]))


@pytest.mark.parametrize("backbone", ["sasrec", "dreamrec"])
def test_training_never_reads_a_held_out_target(tmp_path: Path, backbone: str) -> None:
    """Swap every validation and test target for another item: same trained weights."""
    seqs = cold_sequences()
    swap = {i: CATALOGUE[(k + 17) % len(CATALOGUE)] for k, i in enumerate(CATALOGUE)}
    a = write_dataset(tmp_path / "a", seqs, catalogue=CATALOGUE)
    b = write_dataset(
        tmp_path / "b",
        {u: s[:2] + [swap[x] for x in s[2:]] for u, s in seqs.items()},
        catalogue=CATALOGUE,
    )
    assert not a.split("test")["item_id"].equals(b.split("test")["item_id"])
    config = _config(backbone)  # item fusion 'add' and user profiles
    kw = {"item_vecs": item_profiles(a), "user_vecs": user_profiles(a)}
    state_a = train_pte_backbone(a, config, **kw).state_dict()
    state_b = train_pte_backbone(b, config, **kw).state_dict()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def test_evaluation_is_per_example_in_split_order(cold: Dataset) -> None:
    model = train_pte_backbone(cold, _config("sasrec"), item_vecs=item_profiles(cold))
    table = evaluate_pte_backbone(model, cold, "valid", ks=(5, 10))
    assert set(table) == {"hr@5", "recall@5", "ndcg@5", "hr@10", "recall@10", "ndcg@10", "mrr"}
    assert all(v.shape == (cold.split("valid").height,) for v in table.values())
    assert (table["ndcg@5"] <= table["ndcg@10"]).all()


def test_user_mistakes_are_user_errors(cold: Dataset, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="needs a DreamRecConfig"):
        PtEBackboneConfig(backbone="dreamrec", backbone_config=SASRecConfig())
    with pytest.raises(UserError, match="unknown PtE backbone"):
        PtEBackboneConfig(backbone="gru4rec")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="item_fusion"):
        PtEBackboneConfig(item_fusion="concat")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="item_vecs"):
        train_pte_backbone(cold, _config("sasrec"), item_vecs=item_profiles(cold)[:-1])
    with pytest.raises(UserError, match="user_vecs"):
        train_pte_backbone(cold, _config("sasrec"), user_vecs=np.full((30, 4), np.nan))
    model = train_pte_backbone(cold, _config("sasrec"))
    other = cold_clusters(tmp_path / "other", n_users=36)
    with pytest.raises(UserError, match="not in the training dataset"):
        evaluate_pte_backbone(model, other, "test")
