"""``profilerec train`` dispatch: each method gets its own options, mistakes are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from profilerec.cli.train import TrainRequest, run_train
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError


def request(dataset: Path, out: Path, **kw: Any) -> TrainRequest:
    base: dict[str, Any] = dict(
        dataset=dataset,
        out_dir=out,
        method="proex",
        config=None,
        sets={},
        max_steps=None,
        model=None,
        embedder=None,
        seed=None,
        backbones=[],
        profiles=None,
        k=None,
    )
    return TrainRequest(**{**base, **kw})


def no_embedder(spec: str) -> Any:
    raise AssertionError("a request that fails validation must not load an embedder")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"method": "bogus"}, "unknown training method 'bogus'"),
        ({}, "--method proex needs --profiles DIR"),
        (
            {"method": "blue", "backbones": ["lightgcn"]},
            "--backbone does not apply to --method blue",
        ),
        ({"method": "proex", "model": "x"}, "--model does not apply to --method proex"),
        ({"profiles": Path("p"), "backbones": ["sasrec"]}, "unknown backbone 'sasrec' for proex"),
        ({"profiles": Path("p"), "sets": {"n_envz": 2}}, "--set: unknown option(s) n_envz"),
        ({"profiles": Path("p"), "sets": {"alpha": "lots"}}, "alpha must be a number"),
        # --engine ray reaches only rft; elsewhere it is refused, never ignored
        (
            {"method": "blue", "engine": "ray"},
            "--engine ray does not apply to --method blue: of the train methods only rft",
        ),
        (
            {"profiles": Path("p"), "workers": 2, "worker_gpus": 1.0},
            "--workers, --worker-gpus does not apply to --method proex: of the train methods "
            "only rft generates on Ray; use it on proex-profiles",
        ),
        ({"method": "rft", "engine": "spark"}, "--engine must be local or ray, not 'spark'"),
        ({"method": "pte", "engine": "spark"}, "--engine must be local or ray, not 'spark'"),
        ({"method": "rft", "ray_address": "auto"}, "ray_address and worker_gpus need engine ray"),
        ({"method": "rft", "engine": "ray", "workers": 0}, "workers must be at least 1"),
    ],
)
def test_mistakes_are_user_errors(tmp_path: Path, kw: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError) as err:
        run_train(request(tmp_path, tmp_path / "run", **kw), no_embedder)
    assert message in str(err.value)


def test_proex_trains_from_profile_files(
    demo_dataset: Path, tiny_lm_dir: Path, tiny_st_dir: Path, tmp_path: Path
) -> None:
    """End to end through the dispatcher: tiny LM profiles (K=2) -> LightGCN with and without
    ProEx; ``--epochs`` caps the epochs and ``--set`` reaches ProExConfig."""
    from profilerec.embed.st import SentenceTransformerEmbedder
    from profilerec.llm.hf import TransformersGenerator
    from profilerec.methods.proex.cot import ProExProfilesConfig, run_proex_profiles

    ds = Dataset.load(demo_dataset)
    gen = TransformersGenerator(str(tiny_lm_dir), batch_size=64)
    cfg = ProExProfilesConfig(k=2, max_new_tokens=4, batch_size=128)
    run_proex_profiles(ds, gen, tmp_path / "profiles", cfg, progress=False)
    embedder = SentenceTransformerEmbedder(str(tiny_st_dir))
    loaded: list[str] = []

    def load(spec: str) -> Any:
        loaded.append(spec)
        return embedder

    line = run_train(
        request(
            demo_dataset,
            tmp_path / "run",
            profiles=tmp_path / "profiles",
            backbones=["lightgcn"],
            epochs=1,
            sets={"n_envs": 2, "alpha": "1e-1"},
        ),
        load,
    )
    assert str(tmp_path / "run") in line and loaded == ["sentence-transformers"]
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert list(saved["metrics"]) == ["lightgcn", "lightgcn+proex"]
    assert saved["n_examples"] == ds.split("test").height


def test_set_options_survive_absent_flags_and_clashes_are_refused(tmp_path: Path) -> None:
    from profilerec.cli.train import _overrides

    # `--set max_steps=8` without `--max-steps`: the --set value is kept (it was once
    # silently replaced by the absent flag's None, so the YAML's 32 steps ran instead)
    assert _overrides({"max_steps": 8, "beta": 0.1}, max_steps=None, seed=3) == {
        "max_steps": 8, "beta": 0.1, "seed": 3,
    }  # fmt: skip
    assert _overrides({"max_steps": 8}, max_steps=8) == {"max_steps": 8}
    with pytest.raises(UserError, match="--set max_steps=8 contradicts"):
        run_train(
            request(tmp_path, tmp_path / "run", method="blue", sets={"max_steps": 8}, max_steps=4),
            no_embedder,
        )


@pytest.mark.parametrize(
    ("method", "kw", "message"),
    [
        ("blue", {"rounds": 2}, "--rounds does not apply to --method blue; its length is --max-steps (GRPO steps)"),
        ("rlpf", {"epochs": 2}, "--epochs does not apply to --method rlpf"),
        ("rft", {"epochs": 2}, "--epochs does not apply to --method rft; its length is --rounds (rounds)"),
        ("pte", {"rounds": 2}, "--rounds does not apply to --method pte; its length is --epochs"),
        ("rft", {"max_steps": 3, "rounds": 2}, "--max-steps 3 contradicts --rounds 2"),
    ],
)  # fmt: skip
def test_each_method_counts_its_length_in_its_own_flag(
    tmp_path: Path, method: str, kw: dict[str, Any], message: str
) -> None:
    req = request(tmp_path, tmp_path / "run", method=method, profiles=Path("p"), **kw)
    with pytest.raises(UserError) as err:
        run_train(req, no_embedder)
    assert message in str(err.value)


def test_max_steps_still_counts_rounds_and_epochs_with_a_deprecation_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from profilerec.cli.train import _length_flags

    rft = _length_flags(request(tmp_path, tmp_path / "run", method="rft", max_steps=3))
    assert (rft.rounds, rft.max_steps) == (3, None)
    assert "--max-steps is deprecated for --method rft; it counts rounds there: use --rounds 3" in (
        capsys.readouterr().err
    )
    pte = _length_flags(request(tmp_path, tmp_path / "run", method="pte", max_steps=4))
    assert (pte.epochs, pte.max_steps) == (4, None)
    assert "use --epochs 4" in capsys.readouterr().err
    blue = _length_flags(request(tmp_path, tmp_path / "run", method="blue", max_steps=5))
    assert blue.max_steps == 5 and "deprecated" not in capsys.readouterr().err


def test_set_trl_reaches_the_blue_config_over_the_yaml_block(
    demo_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "blue.yaml"
    config.write_text("blue:\n  trl: {max_grad_norm: 0.5, logging_steps: 2}\n")
    seen: list[Any] = []

    def fake_train(ds: Any, embedder: Any, out: Path, cfg: Any) -> dict[str, Any]:
        seen.append(cfg)
        return {"steps": 0, "seconds": 0.0, "best": None}

    monkeypatch.setattr("profilerec.methods.blue.trainer.train_blue", fake_train)
    req = request(
        demo_dataset, tmp_path / "run", method="blue", config=config,
        sets={"trl.max_grad_norm": 0.25, "beta": 0.0},
    )  # fmt: skip
    run_train(req, lambda spec: None)
    assert seen[0].trl == {"max_grad_norm": 0.25, "logging_steps": 2}
    with pytest.raises(UserError, match="did you mean max_grad_norm"):
        run_train(
            request(demo_dataset, tmp_path / "r2", method="blue", sets={"trl.max_grad_nrm": 1}),
            no_embedder,
        )


def test_engine_flags_reach_the_rft_config_over_its_yaml(
    demo_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "rft.yaml"
    config.write_text("rft:\n  engine: ray\n  workers: 3\n  bf16: false\n")
    seen: list[Any] = []

    def fake_train(ds: Any, embedder: Any, out: Path, cfg: Any) -> dict[str, Any]:
        seen.append(cfg)
        return {"round0_valid_ndcg@10": 0.1, "best_valid_ndcg@10": 0.2, "best_round": 1}

    monkeypatch.setattr("profilerec.methods.rft.train_rft", fake_train)
    run_train(request(demo_dataset, tmp_path / "a", method="rft", config=config), lambda s: None)
    assert (seen[-1].engine, seen[-1].workers) == ("ray", 3)  # the YAML, no flag given
    run_train(
        request(
            demo_dataset, tmp_path / "b", method="rft", config=config, workers=1,
            ray_address="auto", worker_gpus=1.0,
        ),
        lambda s: None,
    )  # fmt: skip
    assert (seen[-1].workers, seen[-1].ray_address, seen[-1].worker_gpus) == (1, "auto", 1.0)
    run_train(
        request(demo_dataset, tmp_path / "c", method="rft", config=config, engine="local"),
        lambda s: None,
    )
    assert seen[-1].engine == "local"
    # `--engine local` is the default of every method, so it is accepted for any of them
    monkeypatch.setattr(
        "profilerec.methods.blue.trainer.train_blue",
        lambda *a: {"steps": 0, "seconds": 0.0, "best": None},
    )
    run_train(request(demo_dataset, tmp_path / "d", method="blue", engine="local"), lambda s: None)
