"""Seconds per GRPO step and peak memory: the project's BLUE trainer against a bare TRL script.

Both train the bundled SmolLM2 with LoRA (r=16 on q/k/v/o) on the same demo prompts, 8
rollouts of up to 64 new tokens per step, one prompt per step. (a) is
``profilerec.methods.blue.trainer.train_blue`` (embedding reward with 128 negatives,
next-item log-likelihood, shaping, validation callback); (b) is ``trl.GRPOTrainer`` with the
same model, LoRA, prompts and GRPO settings and a plain cosine reward written inline. Each run
is its own process, so its peak RSS is its own; runs alternate (a, b, b, a, ...).

    .venv/bin/python benchmarks/grpo_step.py               # bundled models, 6 steps, 2 runs each
    .venv/bin/python benchmarks/grpo_step.py --quick --no-doc
    .venv/bin/python benchmarks/grpo_step.py --data runs/industrial/data --set template=... (another dataset)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import _common
import _demo

TARGET = 1.10
RESULT = "RESULT "
PATHS = {
    "project": "(a) profilerec `train_blue`",
    "trl": "(b) bare TRL `GRPOTrainer`, cosine reward",
}


def blue_config(args: argparse.Namespace) -> Any:
    """The settings both paths share, as the project's config (the bare path reads it too)."""
    from profilerec.methods.blue.config import BlueConfig

    today: dict[str, Any] = dict(
        model=args.model,
        embedder=embedder_spec(args),
        max_steps=args.steps,
        num_generations=8,
        prompts_per_step=1,
        max_completion_length=64,
        eval_every=0,
        weight_next_item=0.2,
        threads=args.threads,
        **({"eval_examples": args.eval_examples} if args.eval_examples else {}),
    )
    # a --set/--change may override any of today's settings (a dict merge, not kwargs twice)
    return BlueConfig(**{**today, **parse_sets(args.set or [])})


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs (YAML values) as config overrides."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set {pair!r}: expected KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value)
    return out


def embedder_spec(args: argparse.Namespace) -> str:
    return f"sentence-transformers:{args.embedder}" if args.embedder else "sentence-transformers"


# --------------------------------------------------------------------------- (a) the project


def run_project(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """``train_blue`` as the CLI calls it (embedder with an on-disk cache); per-step times are
    TRL's own ``step_time`` from ``train_log.jsonl``, so validation at the start and end and
    the adapter save are not counted."""
    from profilerec.data.dataset import Dataset
    from profilerec.embed import load_embedder
    from profilerec.methods.blue.trainer import train_blue

    config = blue_config(args)
    ds = Dataset.load(args.dataset)
    embedder = load_embedder(config.embedder, cache_dir=work / "embedding-cache")
    train_blue(ds, embedder, work / "run", config, progress=False)
    logs = [
        json.loads(line) for line in (work / "run" / "train_log.jsonl").read_text().splitlines()
    ]
    return step_stats([r for r in logs if "step_time" in r])


# --------------------------------------------------------------------------- (b) bare TRL


def run_trl(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """What someone would write with TRL alone: the same prompts, model, LoRA and GRPO settings,
    and a cosine similarity between the profile and the target item's text as the reward."""
    import torch
    from datasets import Dataset as HFDataset
    from peft import LoraConfig
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from profilerec.data.dataset import Dataset
    from profilerec.embed.st import bundled_model_path
    from profilerec.llm.bundled import bundled_smollm2_dir
    from profilerec.llm.prompts import load_template
    from profilerec.methods.blue.data import build_rows, select_train_examples

    config = blue_config(args)
    if config.threads:
        torch.set_num_threads(config.threads)
    # The same rows (prompts and targets) as the project's path, in the same order.
    ds = Dataset.load(args.dataset)
    train = select_train_examples(ds, config.train_examples, one_per_user=True, seed=config.seed)
    item_texts = ds.item_texts(config.item_text_budget)
    rows = build_rows(
        ds,
        train,
        load_template(config.template),
        n_positives=1,
        item_texts=item_texts,
        history=config.history_format(),
    )
    data = HFDataset.from_list([{"prompt": r["prompt"], "target": r["target_text"]} for r in rows])

    source = args.model or str(bundled_smollm2_dir())
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    encoder = SentenceTransformer(args.embedder or str(bundled_model_path()), device="cpu")

    def cosine(completions: list[Any], target: list[str], **kwargs: Any) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        a = encoder.encode(texts, normalize_embeddings=True, convert_to_tensor=True)
        b = encoder.encode(target, normalize_embeddings=True, convert_to_tensor=True)
        return (a * b).sum(dim=1).tolist()

    grpo = GRPOConfig(
        output_dir=str(work / "trl"),
        use_cpu=not torch.cuda.is_available(),
        # TRL turns both on by default; the project turns them off (float32 on CPU) unless
        # its bf16 option is set, and so does this baseline, so the two paths differ only in
        # rewards and bookkeeping.
        bf16=config.use_bf16(),
        gradient_checkpointing=False,
        num_generations=config.num_generations,
        per_device_train_batch_size=config.num_generations * config.prompts_per_step,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        beta=config.beta,
        learning_rate=config.learning_rate,
        max_steps=config.max_steps,
        scale_rewards=config.scale_rewards,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        seed=config.seed,
        disable_tqdm=True,
    )
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_targets),
        task_type="CAUSAL_LM",
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[cosine],
        args=grpo,
        train_dataset=data,
        processing_class=tokenizer,
        peft_config=lora,
    )
    trainer.train()
    return step_stats([r for r in trainer.state.log_history if "step_time" in r])


def step_stats(logs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "step_times": [r["step_time"] for r in logs],
        "mean_lengths": [r.get("completions/mean_length") for r in logs],
    }


def child_main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"bench-grpo-{args.child}-"))
    try:
        found = (run_project if args.child == "project" else run_trl)(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(RESULT + json.dumps(found), flush=True)


# --------------------------------------------------------------------------- parent


def measure(args: argparse.Namespace, path: str, sets: list[str] | None = None) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", path]
    for pair in sets if sets is not None else args.set or []:
        argv += ["--set", pair]
    argv += ["--dataset", args.dataset, "--steps", str(args.steps)]
    for flag, value in (("--model", args.model), ("--embedder", args.embedder)):
        if value:
            argv += [flag, value]
    for flag, number in (("--threads", args.threads), ("--eval-examples", args.eval_examples)):
        if number:
            argv += [flag, str(number)]
    print(f"running {path} {' '.join(sets or [])} ...", file=sys.stderr, flush=True)
    run = _common.run_child(argv)
    lines = [line for line in run.stdout.splitlines() if line.startswith(RESULT)]
    if run.returncode != 0 or not lines:
        raise SystemExit(f"the {path} run failed with exit code {run.returncode}")
    found = json.loads(lines[-1].removeprefix(RESULT))
    found |= {"peak_rss_bytes": run.peak_rss_bytes, "wall_seconds": run.wall_seconds}
    times = ", ".join(f"{t:.1f}" for t in found["step_times"])
    print(
        f"  {path}: step times {times} s, peak RSS {_common.human_bytes(run.peak_rss_bytes)}",
        file=sys.stderr,
        flush=True,
    )
    return found


def parent_main(args: argparse.Namespace) -> None:
    machine = _common.machine()
    args.dataset = args.data or str(_demo.demo_dataset())
    scratch = None
    if args.quick:
        from profilerec.embed.tiny import save_tiny_sentence_transformer
        from profilerec.llm.tiny import save_tiny_causal_lm

        scratch = Path(tempfile.mkdtemp(prefix="bench-grpo-tiny-"))
        args.model = str(save_tiny_causal_lm(scratch / "lm"))
        args.embedder = str(save_tiny_sentence_transformer(scratch / "st"))
    if args.change:
        try:
            text = changes_report(args, machine)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        print(text)
        if not args.no_doc:
            _common.write_section("grpo_step_changes", text)
            print(f"wrote section 'grpo_step_changes' of {_common.DOC}", file=sys.stderr)
        return
    try:
        runs: dict[str, list[dict[str, Any]]] = {"project": [], "trl": []}
        for rep in range(args.reps):
            for path in ("project", "trl") if rep % 2 == 0 else ("trl", "project"):
                runs[path].append(measure(args, path))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    text = report(args, machine, runs)
    print(text)
    if not args.no_doc:
        _common.write_section(args.section, text)
        print(f"wrote section '{args.section}' of {_common.DOC}", file=sys.stderr)


def summarize(runs: list[dict[str, Any]], warmup: int) -> dict[str, float]:
    """Median step time over every run's steps after the first ``warmup``, median peak RSS."""
    steps = [t for r in runs for t in r["step_times"][warmup:]]
    lengths = [x for r in runs for x in r["mean_lengths"][warmup:] if x is not None]
    return {
        "step": statistics.median(steps),
        "steps": len(steps),
        "length": statistics.mean(lengths) if lengths else float("nan"),
        "peak": statistics.median(r["peak_rss_bytes"] for r in runs),
        "wall": statistics.median(r["wall_seconds"] for r in runs),
    }


def report(args: argparse.Namespace, machine: dict[str, str], runs: dict[str, Any]) -> str:
    s = {path: summarize(found, args.warmup_steps) for path, found in runs.items()}
    rows = [
        [
            PATHS[path],
            f"{v['step']:.2f} s",
            str(v["steps"]),
            f"{v['length']:.1f}",
            _common.human_bytes(v["peak"]),
            f"{v['wall']:.0f} s",
        ]
        for path, v in s.items()
    ]
    time_ratio = s["project"]["step"] / s["trl"]["step"]
    memory_ratio = s["project"]["peak"] / s["trl"]["peak"]
    rows.append(["ratio (a) / (b)", f"{time_ratio:.2f}x", "", "", f"{memory_ratio:.2f}x", ""])
    table = _common.markdown_table(
        ["path", "s / step (median)", "steps", "rollout tokens", "peak RSS", "process wall"], rows
    )
    verdict = (
        f"Target (project step time at most {TARGET:.2f}x the bare TRL step): "
        f"**{'met' if time_ratio <= TARGET else 'not met'}** ({time_ratio:.2f}x; peak RSS "
        f"{memory_ratio:.2f}x)."
    )
    if args.quick:
        model, embedder = "tiny random Llama (`save_tiny_causal_lm`)", "tiny random BERT"
    else:
        model, embedder = "bundled SmolLM2-135M-Instruct (float32)", "bundled all-MiniLM-L6-v2"
    extra = f", eval_examples={args.eval_examples}" if args.eval_examples else ""
    packages = ["torch", "transformers", "trl", "peft", "sentence-transformers", "profilerec"]
    version_text = ", ".join(f"{k} {v}" for k, v in _common.versions(packages).items())
    data = f"`{args.data}`" if args.data else "demo-dataset"
    overrides = (
        "\n\nBoth paths then take these overrides of the settings above: "
        + ", ".join(f"`{kv}`" for kv in args.set)
        + "."
        if args.set
        else ""
    )
    return f"""## {args.section}: one GRPO step, project trainer vs bare TRL

What runs: {model} with LoRA (r=16, alpha 32, dropout 0.05 on q/k/v/o_proj), GRPO with 8
rollouts of up to 64 new tokens for one prompt per step (temperature 1.0, beta 0.01, learning
rate 5e-5), {args.steps} steps, on the same {data} training prompts in the same order.
(a) `train_blue(ds, load_embedder(..., cache_dir=tmp), run_dir, BlueConfig(max_steps={args.steps},
num_generations=8, prompts_per_step=1, max_completion_length=64, eval_every=0,
weight_next_item=0.2{extra}))`: embedding reward over 128 negatives, next-item log-likelihood under the
frozen base model (8 extra forward passes), shaping, plus validation at the start and end (not
in the step time). (b) `trl.GRPOTrainer` with the same model, LoRA and GRPO arguments and one
reward written inline: cosine similarity of the profile and the target item's text ({embedder}
via sentence-transformers); like the project it sets `bf16=False, gradient_checkpointing=False`
(TRL's defaults are on). The step time is TRL's own `step_time` log (generation, rewards,
forward and backward of one optimisation step), the median over all runs' steps, leaving out
each run's first {plural(args.warmup_steps, "step")} (warm-up); "rollout tokens" is TRL's mean completion length over those
steps (sampled, so it differs between runs and the time per step with it). Each run is its
own process (peak RSS from `os.wait4`, "process wall" includes loading and, for (a),
validation); {plural(args.reps, "run")} per path, alternating.{overrides}

{table}

{verdict}

- Date: {_common.today()}
- Command: `{_common.command_line()}`
{_common.facts_list(machine)}
- load average at end: {", ".join(f"{x:.2f}" for x in os.getloadavg())}
- Versions: {version_text}
"""


def changes_report(args: argparse.Namespace, machine: dict[str, str]) -> str:
    """Today's step, then each ``--change`` alone, then all of them, in one session; bare TRL
    with today's and with all the changes' settings, so the 1.1x target is checked for both."""
    changes = [parse_change(c) for c in args.change]
    combined = [pair for _, pairs in changes for pair in pairs]
    plan = [("today", "project", [])]
    plan += [(label, "project", pairs) for label, pairs in changes]
    plan += [("all changes", "project", combined)]
    if not args.project_only:
        plan += [("today", "trl", []), ("all changes", "trl", combined)]
    rows, found = [], {}
    for label, path, pairs in plan:
        if label == "all changes" and path == "project" and len(changes) == 1:
            continue  # the one change's own row
        found[label, path] = summarize([measure(args, path, pairs)], args.warmup_steps)
    if len(changes) == 1:
        found["all changes", "project"] = found[changes[0][0], "project"]
    base = found["today", "project"]["step"]
    for (label, path), v in found.items():
        if len(changes) == 1 and (label, path) == ("all changes", "project"):
            continue
        pairs = dict(changes).get(label, combined if label == "all changes" else [])
        rows.append(
            [
                PATHS[path],
                label,
                ", ".join(f"`{p}`" for p in pairs) or "(none)",
                f"{v['step']:.1f} s",
                f"{v['step'] / base:.2f}x",
                f"{v['length']:.1f}",
                _common.human_bytes(v["peak"]),
            ]
        )
    ratio = {
        label: found[label, "project"]["step"] / found[label, "trl"]["step"]
        if (label, "trl") in found
        else float("nan")
        for label in ("today", "all changes")
    }
    table = _common.markdown_table(
        ["path", "change", "settings", "s / step", "vs today", "rollout tokens", "peak RSS"], rows
    )
    trl_line = (
        "Bare TRL not run (`--project-only`)."
        if args.project_only
        else f"Project / bare TRL: {ratio['today']:.2f}x with today's settings, "
        f"{ratio['all changes']:.2f}x with all the changes (target at most {TARGET:.2f}x)."
    )
    return f"""## grpo_step_changes: one change at a time against today's step

The same setup as `grpo_step` ((a) project trainer, (b) bare TRL; today's settings: 8 rollouts
of up to 64 tokens for one prompt, beta 0.01, next-item weight 0.2, float32), one process per row,
run one after another in one session, {args.steps} steps each, the first {args.warmup_steps}
left out. Each change row changes only its own settings; "all changes" combines them. The
machine was shared (other jobs running), so rows differ by load as well: read only large
differences.

{table}

{trl_line}

- Date: {_common.today()}
- Command: `{_common.command_line()}`
{_common.facts_list(machine)}
- load average at end: {", ".join(f"{x:.2f}" for x in os.getloadavg())}
"""


def parse_change(text: str) -> tuple[str, list[str]]:
    """``LABEL:KEY=VAL,KEY=VAL`` -> (label, ["KEY=VAL", ...])."""
    label, sep, rest = text.partition(":")
    if not sep or not rest:
        raise SystemExit(f"--change {text!r}: expected LABEL:KEY=VALUE[,KEY=VALUE]")
    return label, rest.split(",")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="GRPO steps per run")
    parser.add_argument(
        "--warmup-steps", type=int, default=1, help="first steps of each run left out"
    )
    parser.add_argument("--reps", type=int, default=2, help="runs per path, alternating")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check that the script works (tiny random models, 2 steps, 1 thread)",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--set", action="append", help="config override KEY=VALUE for both paths (repeatable)"
    )
    parser.add_argument(
        "--project-only", action="store_true", help="with --change: no bare-TRL runs"
    )
    parser.add_argument(
        "--change",
        action="append",
        help="LABEL:KEY=VALUE[,KEY=VALUE]: measure this change alone against today's step "
        "(repeatable; writes the grpo_step_changes section)",
    )
    parser.add_argument(
        "--data",
        help="a prepared dataset folder whose training prompts both paths use (default: the "
        "demo); e.g. runs/industrial/data with the Industrial recipe's --set options",
    )
    parser.add_argument(
        "--section", default="grpo_step", help="docs/benchmarks.md section to (re)write"
    )
    parser.add_argument("--child", choices=["project", "trl"], help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--embedder", help=argparse.SUPPRESS)
    parser.add_argument("--eval-examples", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.reps, args.threads, args.eval_examples = 2, 1, 1, 8
    if args.steps <= args.warmup_steps:
        parser.error("--steps must exceed --warmup-steps")
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
