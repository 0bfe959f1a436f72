"""Bad-input corpus, issue 32: ``profile --adapter`` refuses a diverged or malformed adapter
before any model loads (a half-NaN adapter once wrote all-empty profiles, exit 0)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bad_input._inproc import no_model, run_main
from bad_input._writes import refused


def _adapter(tiny_lm_dir: Path, folder: Path, poison: bool) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_lm_dir))
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    if poison:
        with torch.no_grad():
            next(p for p in model.parameters() if p.requires_grad).fill_(float("nan"))
    model.save_pretrained(str(folder))
    return folder


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("nan", "adapter_model.safetensors: 1 of 4 adapter weight tensors hold NaN or inf"),
        ("config", "adapter_config.json: malformed adapter_config.json"),
        ("binary", "adapter_config.json: malformed adapter_config.json"),
    ],
)
def test_a_broken_adapter_is_refused_before_the_model_loads(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tiny_lm_dir: Path,
    tmp_path: Path,
    setup: str,
    message: str,
) -> None:
    run = tmp_path / "run"
    adapter = _adapter(tiny_lm_dir, run / "best_adapter", poison=setup == "nan")
    if setup == "config":
        (adapter / "adapter_config.json").write_text('{"r": 2,')
    if setup == "binary":
        (adapter / "adapter_config.json").write_bytes(b"\x00\xff\xfe binary")
    capsys.readouterr()  # the fixture's own loading lines
    monkeypatch.setattr("profilerec.llm.load_generator", no_model)
    result = run_main(
        monkeypatch, capsys, "profile", demo_dataset, "--out", tmp_path / "p", "--adapter", run
    )
    refused(result, message)
    assert not (tmp_path / "p").exists()
