"""RFT's ``engine: ray`` without Ray: the options, their resume rule, and the runner the
driver builds (the round's policy saved first; the actors' factory loads base + that
adapter merged and writes the local engine's greedy texts). ``tests/engines/test_ray_rft.py``
runs it on a real local Ray."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch

from _rft import candidate_setup
from profilerec.engines.generation import LocalRunner
from profilerec.errors import UserError
from profilerec.methods.rft.config import RFTConfig
from profilerec.methods.rft.engine import POLICY_DIR, ray_runner
from profilerec.methods.rft.sample import GREEDY, sample_round
from profilerec.methods.rft.train import CONFIG_FILE, _check_config
from profilerec.rewards import EmbeddingReward

CFG = RFTConfig(num_samples=2, max_new_tokens=6, gen_batch_size=2, bf16=False)


def test_engine_options_round_trip_and_bad_ones_are_user_errors() -> None:
    cfg = RFTConfig(engine="ray", workers=3, ray_address="auto", worker_gpus=1, bf16=False)
    saved = json.loads(json.dumps(cfg.to_dict()))
    assert RFTConfig(**saved) == cfg and saved["worker_gpus"] == 1.0
    assert RFTConfig(bf16=False).engine == "local"  # the default is unchanged
    for kw, message in [
        ({"engine": "spark"}, "engine must be local or ray, not 'spark'"),
        ({"engine": "ray", "workers": 0}, "workers must be at least 1"),
        ({"engine": "ray", "worker_gpus": -1.0}, "worker_gpus must be"),
        ({"ray_address": "auto"}, "ray_address and worker_gpus need engine ray"),
        ({"worker_gpus": 1.0}, "ray_address and worker_gpus need engine ray"),
    ]:
        with pytest.raises(UserError, match=message):
            RFTConfig(bf16=False, **kw)


def test_a_run_may_resume_on_the_other_engine(tmp_path: Path) -> None:
    local = RFTConfig(bf16=False)
    _check_config(tmp_path, local)
    _check_config(tmp_path, RFTConfig(bf16=False, engine="ray", workers=4))  # not refused
    assert json.loads((tmp_path / CONFIG_FILE).read_text())["engine"] == "ray"
    with pytest.raises(UserError, match="different config"):
        _check_config(tmp_path, RFTConfig(bf16=False, engine="ray", num_samples=7))


@pytest.fixture(scope="module")
def policy(tiny_lm_dir: Path) -> tuple[Any, Any, str]:
    """The tiny LM under a LoRA moved off its zero start, as after a round of SFT."""
    from peft import LoraConfig, get_peft_model

    from profilerec.methods.blue.trainer import load_policy

    base, tokenizer, source = load_policy(str(tiny_lm_dir))
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
    return model, tokenizer, source


@pytest.fixture(scope="module")
def reward_rows(tiny_st_dir: Path) -> tuple[EmbeddingReward, list[dict[str, Any]]]:
    return candidate_setup(tiny_st_dir, "Describe customer {e} in a few words.")


class InProcessRay:
    """Stands in for ``RayRunner``: checks the policy is on disk when the pool is built, then
    runs the actors' factory here (so the test needs no Ray)."""

    built: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, factory: Any, options: Any, *, model_id: str) -> None:
        adapter = Path(factory.keywords["adapter"])
        InProcessRay.built.append(
            {"saved": (adapter / "adapter_config.json").is_file(), "adapter": adapter}
        )
        self.options, self.model_id = options, model_id
        self.inner = LocalRunner(factory())

    def run(self, batches: Any, config: Any) -> Any:
        return self.inner.run(batches, config)


def test_ray_engine_saves_the_policy_first_and_its_factory_writes_the_local_greedy(
    policy: tuple[Any, Any, str],
    reward_rows: tuple[EmbeddingReward, list[dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, tokenizer, source = policy
    reward, rows = reward_rows
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad(), model.disable_adapter():
        plain = model(ids).logits
    with torch.no_grad():
        assert not torch.allclose(model(ids).logits, plain, atol=1e-3)  # the adapter matters
    monkeypatch.setattr("profilerec.engines.ray_profile.RayRunner", InProcessRay)
    monkeypatch.setattr("profilerec.engines.ray_cluster.import_ray", lambda: None)
    cfg = RFTConfig(**{**CFG.to_dict(), "engine": "ray", "workers": 1})
    local = sample_round(model, tokenizer, rows, reward, CFG, tmp_path / "local", 1, progress=False)

    round_folder = tmp_path / "round-001"
    runner = ray_runner(model, cfg, source, round_folder)
    assert InProcessRay.built[-1] == {
        "saved": True,
        "adapter": (round_folder / POLICY_DIR).resolve(),
    }
    assert runner.options.workers == 1 and runner.options.gpus_per_worker == 0
    on_ray = sample_round(
        model, tokenizer, rows, reward, cfg, round_folder / "candidates", 1,
        progress=False, runner=runner,
    )  # fmt: skip
    greedy = local.filter(local["sample"] == GREEDY)["profile"].to_list()
    assert any(greedy)  # the texts compared are not all empty
    # base + adapter merged writes what the unmerged policy in memory writes
    assert on_ray.filter(on_ray["sample"] == GREEDY)["profile"].to_list() == greedy
    assert on_ray.equals(local)  # the seeded samples too
