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
    ProEx; ``--max-steps`` caps the epochs and ``--set`` reaches ProExConfig."""
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
            max_steps=1,
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
