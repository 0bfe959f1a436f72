from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.methods.backbones.ldiffrec import LDiffRecConfig
from profilerec.methods.backbones.lightgcn import LightGCNConfig
from profilerec.methods.backbones.multvae import MultVAEConfig
from profilerec.methods.backbones.simgcl import SimGCLConfig
from profilerec.methods.proex import ProExConfig, evaluate_backbone, train_proex
from profilerec.methods.proex.run import run_proex
from profilerec.recsys.graph import user_order
from profilerec.report import build_from_dirs

from .conftest import cluster_profiles

FEW_EPOCHS = {
    "lightgcn": LightGCNConfig(epochs=2, batch_size=64),
    "simgcl": SimGCLConfig(epochs=2, batch_size=64),
    "multvae": MultVAEConfig(epochs=2, batch_size=16),
    "ldiffrec": LDiffRecConfig(epochs=2, batch_size=16),
}


def vectors(ds: Dataset, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    users = np.array([int(u[1:]) % 2 for u in user_order(ds)])
    items = np.array([0 if i.startswith("a") else 1 for i in ds.item_ids])
    return cluster_profiles(users, k), cluster_profiles(items, k, seed=1)


def test_metrics_json_pairs_every_backbone_with_its_proex_version(
    toy: Dataset, tmp_path: Path
) -> None:
    users, items = vectors(toy)
    diversity = {"k": 3, "user_mean_pairwise_cosine": 0.5}
    result = run_proex(
        toy,
        tmp_path / "run",
        backbones=list(FEW_EPOCHS),
        user_vecs=users,
        item_vecs=items,
        config=ProExConfig(n_envs=2),
        diversity=diversity,
        progress=False,
        backbone_configs=FEW_EPOCHS,
        bootstrap=200,
    )
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(result))
    names = [m for b in FEW_EPOCHS for m in (b, f"{b}+proex")]
    assert list(saved["metrics"]) == names and list(saved["ci"]) == names
    for name in names:
        assert {"recall@10", "ndcg@20", "recall@50", "mrr"} <= set(saved["metrics"][name])
        for metric, (lo, hi) in saved["ci"][name].items():
            assert lo <= saved["metrics"][name][metric] <= hi
    pairs = {(c["method"], c["reference"], c["metric"]) for c in saved["comparisons"]}
    metrics = ("ndcg@10", "recall@10", "ndcg@20", "recall@20")
    assert pairs == {(f"{b}+proex", b, m) for b in FEW_EPOCHS for m in metrics}
    for c in saved["comparisons"]:
        diff = (
            saved["metrics"][c["method"]][c["metric"]]
            - saved["metrics"][c["reference"]][c["metric"]]
        )
        assert c["mean_diff"] == pytest.approx(diff)
    assert saved["n_examples"] == toy.split("test").height == 40
    assert saved["split"] == "test" and saved["diversity"] == diversity
    assert saved["config"]["proex"]["n_envs"] == 2
    assert saved["config"]["backbones"]["multvae"]["epochs"] == 2
    assert saved["config"]["user_profiles"] == [40, 3, 8]

    ranks = pl.read_parquet(tmp_path / "run" / "ranks.parquet")
    assert ranks.height == 40 * len(names)
    for name in names:
        mine = ranks.filter(pl.col("method") == name)
        assert mine["example_id"].to_list() == toy.split("test")["example_id"].to_list()
        hits = float((mine["target_rank"] <= 10).mean())  # type: ignore[operator]
        assert hits == pytest.approx(saved["metrics"][name]["recall@10"])
    report = build_from_dirs(tmp_path / "run", toy.root)
    assert "lightgcn+proex" in report.read_text()


def test_each_method_is_the_model_train_proex_gives(toy: Dataset, tmp_path: Path) -> None:
    users, items = vectors(toy)
    config = ProExConfig(backbone_config=FEW_EPOCHS["lightgcn"], seed=3)
    result = run_proex(
        toy,
        tmp_path,
        backbones=["lightgcn"],
        user_vecs=users,
        item_vecs=items,
        config=config,
        progress=False,
        bootstrap=50,
    )
    plain = evaluate_backbone(train_proex(toy, "lightgcn", None, None, config), toy, "test")
    proex = evaluate_backbone(train_proex(toy, "lightgcn", users, items, config), toy, "test")
    assert result["metrics"]["lightgcn"]["ndcg@10"] == pytest.approx(plain["ndcg@10"].mean())
    assert result["metrics"]["lightgcn+proex"]["mrr"] == pytest.approx(proex["mrr"].mean())
    assert result["reference"] == "lightgcn"


def test_bad_requests_fail_before_training(toy: Dataset, tmp_path: Path) -> None:
    users, items = vectors(toy)
    kw = {"user_vecs": users, "item_vecs": items, "config": ProExConfig(), "progress": False}
    with pytest.raises(UserError, match="unknown backbone"):
        run_proex(toy, tmp_path, backbones=["lightgcn", "bert4rec"], **kw)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="at least one"):
        run_proex(toy, tmp_path, backbones=[], **kw)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="generative"):
        run_proex(
            toy,
            tmp_path,
            backbones=["multvae"],
            user_vecs=None,
            item_vecs=items,
            config=ProExConfig(),
            progress=False,
        )
    with pytest.raises(UserError, match="needs a MultVAEConfig"):
        run_proex(
            toy,
            tmp_path,
            backbones=["multvae"],
            **{**kw, "config": ProExConfig(backbone_config=LightGCNConfig())},  # type: ignore[arg-type]
        )
    assert not (tmp_path / "metrics.json").exists()


def test_slices_json_holds_evaluate_slices_with_each_backbone_as_reference(
    toy: Dataset, tmp_path: Path
) -> None:
    users, items = vectors(toy)
    run_proex(
        toy,
        tmp_path / "run",
        backbones=["lightgcn"],
        user_vecs=users,
        item_vecs=items,
        config=ProExConfig(n_envs=2),
        progress=False,
        backbone_configs={"lightgcn": FEW_EPOCHS["lightgcn"]},
        bootstrap=50,
    )
    slices = json.loads((tmp_path / "run" / "slices.json").read_text())
    assert list(slices) == ["overall", "cold_items", "short_history", "tail_items", "rest"]
    assert slices["overall"]["n"] == toy.split("test").height
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["slices"] == {name: part["n"] for name, part in slices.items()}
    for part in slices.values():
        if part["n"]:
            assert {(c["method"], c["reference"]) for c in part["comparisons"]} == {
                ("lightgcn+proex", "lightgcn")
            }
