"""The PtE experiment runner: every method per backbone, compared with its own ID-only run,
overall and per slice, in the evaluate stage's file formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from _datasets import write_dataset
from profilerec.errors import UserError
from profilerec.methods.pte.profiling import PtEProfilesConfig, run_pte_profiles
from profilerec.methods.pte.run import PtERunConfig, run_pte

SEQS = {f"u{n}": [f"{'ab'[n % 2]}{(n + j) % 6}" for j in range(4 + n % 3)] for n in range(10)}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, tiny_lm_dir: Path, tiny_st_dir: Path) -> Any:
    from profilerec.embed.st import SentenceTransformerEmbedder
    from profilerec.llm.hf import TransformersGenerator

    root = tmp_path_factory.mktemp("pte_run")
    ds = write_dataset(root / "ds", SEQS)
    embedder = SentenceTransformerEmbedder(str(tiny_st_dir))
    gen = TransformersGenerator(str(tiny_lm_dir), batch_size=32, threads=1)
    cfg = PtEProfilesConfig(rounds=1, candidates=2, max_new_tokens=4, batch_size=32)
    run_pte_profiles(ds, gen, embedder, root / "profiles", cfg, progress=False)
    return ds, embedder, root


def test_every_method_is_compared_with_its_own_id_only_backbone(setup: Any) -> None:
    ds, embedder, root = setup
    out = root / "run"
    result = run_pte(
        ds,
        out,
        backbones=["sasrec", "dreamrec"],
        profiles_dir=root / "profiles",
        embedder=embedder,
        config=PtERunConfig(epochs=1, bootstrap=100, cold_user_max=4),
        progress=False,
    )
    suffixes = ["", "+pte", "+pte_user_only", "+pte_item_only", "+pte_single_pass"]
    suffixes += ["+pte_no_grpo", "+random"]
    names = [b + s for b in ("sasrec", "dreamrec") for s in suffixes]
    saved = json.loads((out / "metrics.json").read_text())
    assert list(saved["metrics"]) == names and saved["n_examples"] == len(SEQS)
    pairs = {(c["method"], c["reference"]) for c in saved["comparisons"]}
    assert pairs == {(b + s, b) for b in ("sasrec", "dreamrec") for s in suffixes if s}
    for c in saved["comparisons"]:
        diff = (
            saved["metrics"][c["method"]][c["metric"]]
            - saved["metrics"][c["reference"]][c["metric"]]
        )
        assert c["mean_diff"] == pytest.approx(diff)
    slices = json.loads((out / "slices.json").read_text())
    assert {"overall", "cold_users", "tail_items", "tail_users"} <= set(slices)
    assert slices["overall"]["n"] == len(SEQS)
    assert slices["overall"]["metrics"] == saved["metrics"]
    cold = sum(1 for s in SEQS.values() if len(s) - 2 <= 4)  # training items = all but 2
    assert slices["cold_users"]["n"] == cold == result["slices"]["cold_users"]
    assert (out / "ranks.parquet").is_file()


def test_bad_requests_fail_before_training(setup: Any, tmp_path: Path) -> None:
    ds, embedder, root = setup
    with pytest.raises(UserError, match="unknown backbone 'lightgcn' for pte"):
        run_pte(
            ds, tmp_path, backbones=["lightgcn"], profiles_dir=root / "profiles", embedder=embedder
        )
    with pytest.raises(UserError, match="no PtE profiles here"):
        run_pte(ds, tmp_path, backbones=["sasrec"], profiles_dir=tmp_path, embedder=embedder)
    with pytest.raises(UserError, match="item_fusion must be init, add or replace"):
        PtERunConfig(item_fusion="none")


def test_named_ablations_and_tuned_backbone_params(setup: Any) -> None:
    ds, embedder, root = setup
    out = root / "run_named"
    run_pte(
        ds,
        out,
        backbones=["sasrec"],
        profiles_dir=root / "profiles",
        embedder=embedder,
        config=PtERunConfig(
            ablations=["pte_item_only"],
            random_control=False,
            backbone_params={"sasrec": {"epochs": 1, "layers": 1, "hidden": 16}},
            bootstrap=50,
        ),
        progress=False,
    )
    saved = json.loads((out / "metrics.json").read_text())
    assert list(saved["metrics"]) == ["sasrec", "sasrec+pte", "sasrec+pte_item_only"]
    assert saved["config"]["pte"]["backbone_params"]["sasrec"]["layers"] == 1
    with pytest.raises(UserError, match="unknown ablation 'pte_users'"):
        PtERunConfig(ablations=["pte_users"])
    with pytest.raises(UserError, match="backbone_params names 'lightgcn'"):
        PtERunConfig(backbone_params={"lightgcn": {}})
    with pytest.raises(UserError, match="backbone_params of sasrec"):
        run_pte(
            ds,
            root / "bad",
            backbones=["sasrec"],
            profiles_dir=root / "profiles",
            embedder=embedder,
            config=PtERunConfig(backbone_params={"sasrec": {"widht": 3}}, bootstrap=20),
            progress=False,
        )
