"""``--device`` of ``profile`` and ``qa``: a device this machine lacks, or one for a generator
that runs elsewhere, is refused with exit 2 before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import profilerec.llm as llm
from bad_input._inproc import no_model, run_main
from profilerec.errors import UserError
from profilerec.profile.generators import resolve_device

CASES = [
    (["--device", "tpu"], "unknown device 'tpu'; use auto, cpu, cuda or cuda:N"),
    (["--device", "gpu0"], "unknown device 'gpu0'; use auto, cpu, cuda or cuda:N"),
    (
        ["--device", "cuda", "--generator", "openai:m@http://127.0.0.1:9/v1"],
        "--device works only with the transformers generator and with ctranslate2",
    ),
]


@pytest.mark.parametrize(("args", "message"), CASES)
def test_profile_refuses_a_bad_device(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(llm, "load_generator", no_model)
    code, err = run_main(
        monkeypatch, capsys, "profile", demo_dataset, "--out", tmp_path / "p", *args
    )
    assert code == 2 and err == f"error: {message}", err
    assert not (tmp_path / "p").exists()


def test_qa_refuses_cuda_without_a_gpu(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_dataset: Path,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(llm, "load_generator", no_model)
    code, err = run_main(
        monkeypatch, capsys, "qa", demo_dataset, "--out", tmp_path / "q", "--device", "cuda:1"
    )
    assert code == 2 and err == "error: device 'cuda:1': no GPU is visible to torch here; use cpu"


def test_auto_is_cuda_only_where_torch_sees_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(UserError):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:0") == "cuda:0"
