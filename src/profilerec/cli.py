"""The ``profilerec`` command: one thin sub-command per stage; the work lives in the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from profilerec.errors import UserError

app = typer.Typer(
    name="profilerec",
    help="Textual user profiles from interaction histories: prepare, profile, embed, evaluate, train.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()


@app.callback()
def _root() -> None:
    """Textual user profiles from interaction histories: prepare, profile, embed, evaluate, train."""


@app.command()
def prepare(
    source: Annotated[
        Path | None, typer.Argument(help="Reviews file, or a folder with reviews + meta files.")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Dataset folder to write.")] = Path(
        "runs/demo/dataset"
    ),
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="amazon2023 (default), amazon2018, amazon2014, google_local, movielens, recbole, "
            "csv, parquet.",
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option(help="Use the embedded All_Beauty 5-core demo data.")
    ] = False,
    k_core: Annotated[int, typer.Option(help="Iterative k-core on users and items (0 = off).")] = 5,
    missing_meta: Annotated[
        str, typer.Option(help="Items with no metadata record: keep, drop or error.")
    ] = "keep",
    split: Annotated[
        str, typer.Option(help="leave_last_out, global_time or user_disjoint.")
    ] = "leave_last_out",
    max_history: Annotated[
        int, typer.Option(help="History items kept per example, most recent (0 = all).")
    ] = 20,
    min_history: Annotated[int, typer.Option(help="Minimum earlier items per example.")] = 1,
    valid_cut: Annotated[
        float, typer.Option(help="global_time: validation cut (fraction of interactions or ms).")
    ] = 0.8,
    test_cut: Annotated[
        float, typer.Option(help="global_time: test cut (fraction of interactions or ms).")
    ] = 0.9,
    valid_users: Annotated[
        float, typer.Option(help="user_disjoint: validation user fraction.")
    ] = 0.1,
    test_users: Annotated[float, typer.Option(help="user_disjoint: test user fraction.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed for the user-disjoint split.")] = 0,
    lenient: Annotated[
        bool,
        typer.Option(help="Skip malformed records (counted in the manifest) instead of failing."),
    ] = False,
    column: Annotated[
        list[str] | None,
        typer.Option(
            help="csv/parquet column mapping CANONICAL=SOURCE, e.g. user_id=uid (repeatable)."
        ),
    ] = None,
    time_unit: Annotated[str, typer.Option(help="csv/parquet timestamp unit: s, ms or iso.")] = "s",
) -> None:
    """Read raw logs into a canonical dataset folder with leakage-safe splits."""
    from profilerec.data.prepare import PrepareConfig, demo_source
    from profilerec.data.prepare import prepare as run_prepare
    from profilerec.data.readers import ReadOptions
    from profilerec.data.splits import SplitConfig

    if demo == (source is not None):
        raise UserError("give either SOURCE or --demo (not both, not neither)")
    if missing_meta not in ("keep", "drop", "error"):
        raise UserError(f"--missing-meta must be keep, drop or error, not {missing_meta!r}")
    if demo and fmt not in (None, "amazon2023"):
        raise UserError("--demo is the Amazon 2023 All_Beauty data; drop --format")
    fmt = fmt or "amazon2023"
    if demo:
        source = demo_source()
    columns = dict(_pair(c) for c in column or [])
    config = PrepareConfig(
        format=fmt,
        k_core=k_core,
        missing_meta=missing_meta,  # type: ignore[arg-type]
        split=SplitConfig(
            kind=split,  # type: ignore[arg-type]
            max_history=max_history,
            min_history=min_history,
            valid_cut=valid_cut,
            test_cut=test_cut,
            valid_users=valid_users,
            test_users=test_users,
            seed=seed,
        ),
        read=ReadOptions(lenient=lenient, columns=columns, time_unit=time_unit),
    )
    assert source is not None
    with console.status(f"preparing {source} ..."):
        manifest = run_prepare(source, out_dir, config)
    print_manifest(manifest, out_dir)


#: ``--dtype``, shared by every command that loads a transformers generator.
DtypeOption = Annotated[
    str,
    typer.Option(
        help="transformers weights: auto (bfloat16 where the hardware runs it natively, else float32), float32, bfloat16, float16."
    ),
]


@app.command()
def profile(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for profiles.parquet.")],
    method: Annotated[str, typer.Option(help="Name recorded with the profiles.")] = "zero_shot",
    generator: Annotated[
        str,
        typer.Option(
            help="transformers (bundled SmolLM2), transformers:ID_OR_PATH, openai:MODEL@URL, llamacpp:GGUF."
        ),
    ] = "transformers",
    adapter: Annotated[
        Path | None,
        typer.Option(
            help="LoRA adapter: a `profilerec train` run folder (its best_adapter/, else adapter/) or an adapter folder such as RUN/adapter (the final step)."
        ),
    ] = None,
    split: Annotated[
        list[str] | None, typer.Option(help="Split(s) to profile (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Profile only the first N examples per split.")] = 0,
    template: Annotated[str, typer.Option(help="Prompt template name or file.")] = "profile",
    batch_size: Annotated[int, typer.Option(help="Prompts per generation batch.")] = 16,
    max_new_tokens: Annotated[int, typer.Option(help="Maximum profile length in tokens.")] = 96,
    temperature: Annotated[float, typer.Option(help="0 = greedy; > 0 samples.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    dtype: DtypeOption = "auto",
) -> None:
    """Write one LLM profile per example (batched, cached, resumable)."""
    from profilerec.data.dataset import Dataset
    from profilerec.llm.base import GenerationConfig
    from profilerec.profile.stage import ProfileConfig, run_profile

    ds = Dataset.load(dataset)
    config = ProfileConfig(
        method=method,
        template=template,
        splits=tuple(split or ["test"]),
        batch_size=batch_size,
        limit=limit,
        generation=GenerationConfig(
            max_new_tokens=max_new_tokens, temperature=temperature, seed=seed
        ),
    )
    gen = _generator(generator, adapter, batch_size, dtype)
    path = run_profile(ds, gen, out_dir, config)
    out.print(f"profiles written to {path}")


@app.command()
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for metrics.json and ranks.parquet.")
    ],
    profiles: Annotated[
        list[str] | None,
        typer.Option(
            help="Profile set NAME=DIR or DIR (repeatable); each adds NAME and history+NAME."
        ),
    ] = None,
    embedder: Annotated[
        str,
        typer.Option(
            help="sentence-transformers (bundled MiniLM), sentence-transformers:ID_OR_PATH, openai:MODEL@URL."
        ),
    ] = "sentence-transformers",
    method: Annotated[
        list[str] | None,
        typer.Option(
            help="Baselines: popularity, history_text, mean_history, sasrec (repeatable; default all)."
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="Split to evaluate.")] = "test",
    limit: Annotated[int, typer.Option(help="Evaluate only the first N examples.")] = 0,
    reference: Annotated[
        str | None, typer.Option(help="Method the others are compared with.")
    ] = None,
    report: Annotated[bool, typer.Option(help="Also write report.html.")] = True,
) -> None:
    """Rank the whole catalogue per example and score every method (with bootstrap CIs)."""
    from profilerec.data.dataset import Dataset
    from profilerec.evaluate.stage import BASE_METHODS, EvaluateConfig, run_evaluate

    ds = Dataset.load(dataset)
    sets = _profile_sets(profiles or [])
    config = EvaluateConfig(
        split=split, methods=tuple(method or BASE_METHODS), limit=limit, reference=reference
    )
    result = run_evaluate(ds, _embedder(embedder), out_dir, config, sets)
    print_metrics(result)
    if report:
        _report(out_dir, ds, sets)


@app.command()
def train(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Run folder (adapter or model, logs, metrics).")
    ],
    method: Annotated[
        str,
        typer.Option(
            help="blue, rlpf or judge (train the profiler LLM); proex or pte (train a "
            "recommender on profile embeddings)."
        ),
    ] = "blue",
    config: Annotated[
        Path | None, typer.Option(help="YAML file of the method's config options.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override one config option, KEY=VALUE (YAML value; repeatable)."
        ),
    ] = None,
    max_steps: Annotated[
        int | None,
        typer.Option(help="GRPO steps (blue/rlpf/judge) or epochs of each backbone (proex/pte)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Profiler LLM id/path (default: bundled SmolLM2).")
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="Embedder spec for rewards, validation or profiles.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed.")] = None,
    backbone: Annotated[
        list[str] | None,
        typer.Option(
            help="proex: lightgcn, simgcl, multvae, ldiffrec; pte: sasrec, dreamrec (repeatable)."
        ),
    ] = None,
    profiles: Annotated[
        Path | None,
        typer.Option(help="proex/pte: folder written by `proex-profiles` / `pte-profiles`."),
    ] = None,
    k: Annotated[
        int | None, typer.Option(help="proex: use the first K profiles per user/item.")
    ] = None,
) -> None:
    """Train the profiler with GRPO (BLUE or a baseline reward; resumes from the last
    checkpoint), or a recommender on profile embeddings (ProEx, PtE)."""
    from profilerec.cli_train import TrainRequest, run_train
    from profilerec.configs import parse_sets

    request = TrainRequest(
        dataset=dataset,
        out_dir=out_dir,
        method=method,
        config=config,
        sets=parse_sets(set_ or []),
        max_steps=max_steps,
        model=model,
        embedder=embedder,
        seed=seed,
        backbones=backbone or [],
        profiles=profiles,
        k=k,
    )
    out.print(run_train(request, _embedder))


@app.command("proex-profiles")
def proex_profiles(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the profile files.")],
    k: Annotated[int, typer.Option(help="Profiles per user and item (F1 + K-1 new ones).")] = 4,
    entities: Annotated[str, typer.Option(help="users, items or both.")] = "both",
    generator: Annotated[
        str, typer.Option(help="transformers (bundled SmolLM2), transformers:ID_OR_PATH, ...")
    ] = "transformers",
    batch_size: Annotated[int, typer.Option(help="Prompts per generation batch.")] = 16,
    max_new_tokens: Annotated[int, typer.Option(help="Maximum tokens per step's text.")] = 48,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of F4.")] = 0.9,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    dtype: DtypeOption = "auto",
) -> None:
    """ProEx's four-step chain of thought: K profiles per user and item (resumable)."""
    from profilerec.data.dataset import Dataset
    from profilerec.methods.proex.cot import ProExProfilesConfig, run_proex_profiles

    ds = Dataset.load(dataset)
    cfg = ProExProfilesConfig(
        k=k,
        entities=entities,  # type: ignore[arg-type]
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seed=seed,
    )
    path = run_proex_profiles(ds, _generator(generator, None, batch_size, dtype), out_dir, cfg)
    out.print(f"profiles written to {path}")


@app.command("pte-profiles")
def pte_profiles(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for users/items.parquet.")],
    rounds: Annotated[
        int | None, typer.Option(help="Refinement rounds after round 0 (0 = single pass).")
    ] = None,
    candidates: Annotated[
        int | None, typer.Option(help="Candidate profiles per user and item (final round).")
    ] = None,
    generator: Annotated[
        str, typer.Option(help="transformers (bundled SmolLM2), transformers:ID_OR_PATH, ...")
    ] = "transformers",
    embedder: Annotated[
        str, typer.Option(help="Embedder of the selection reward.")
    ] = "sentence-transformers",
    batch_size: Annotated[int | None, typer.Option(help="Prompts per generation batch.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML file of PtEProfilesConfig options.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one option, KEY=VALUE (YAML value; repeatable)."),
    ] = None,
    dtype: DtypeOption = "auto",
) -> None:
    """PtE's bidirectional user/item profiles, refined in rounds, candidates selected by a
    group-relative collaborative reward (resumable)."""
    from profilerec.configs import from_mapping, parse_sets, read_yaml_options
    from profilerec.data.dataset import Dataset
    from profilerec.methods.pte.profiling import PtEProfilesConfig, run_pte_profiles

    data = read_yaml_options(config, "pte") if config else {}
    overrides = {
        **parse_sets(set_ or []),
        "rounds": rounds,
        "candidates": candidates,
        "batch_size": batch_size,
    }
    cfg = from_mapping(PtEProfilesConfig, data, str(config or "--set"), **overrides)
    ds = Dataset.load(dataset)
    gen = _generator(generator, None, cfg.batch_size, dtype)
    path = run_pte_profiles(ds, gen, _embedder(embedder), out_dir, cfg)
    out.print(f"profiles written to {path}")


@app.command()
def quickstart(
    out_dir: Annotated[Path, typer.Option("--out", help="Run folder.")] = Path("runs/demo"),
    generator: Annotated[
        str, typer.Option(help="Profiler LLM spec (see `profile --help`).")
    ] = "transformers",
    embedder: Annotated[
        str, typer.Option(help="Embedder spec (see `evaluate --help`).")
    ] = "sentence-transformers",
    limit: Annotated[
        int, typer.Option(help="Profile and evaluate only the first N test users (0 = all).")
    ] = 0,
    max_new_tokens: Annotated[int, typer.Option(help="Maximum profile length in tokens.")] = 64,
    batch_size: Annotated[
        int, typer.Option(help="Prompts per generation batch (CPU throughput peaks near 16).")
    ] = 16,
    train: Annotated[
        bool, typer.Option(help="Also train the profiler with BLUE (a short CPU run) and compare.")
    ] = False,
    train_steps: Annotated[int, typer.Option(help="GRPO steps with --train.")] = 20,
    dtype: DtypeOption = "auto",
) -> None:
    """The main job on the embedded demo: prepare, profile, evaluate every method, write report.html."""
    import dataclasses

    from profilerec.llm.base import GenerationConfig
    from profilerec.quickstart import QuickstartConfig, run_quickstart

    config = QuickstartConfig(limit=limit, train=train)
    config.profile = dataclasses.replace(
        config.profile,
        batch_size=batch_size,
        generation=GenerationConfig(max_new_tokens=max_new_tokens),
    )
    base = generator.partition(":")[2] if generator.startswith("transformers:") else None
    if train and base is None and generator not in ("transformers", "smollm2"):
        raise UserError("--train trains a local model: use a transformers generator")
    config.blue = dataclasses.replace(
        config.blue, max_steps=train_steps, embedder=embedder, model=base
    )
    done = run_quickstart(
        out_dir,
        config,
        lambda adapter: _generator(generator, adapter, batch_size, dtype),
        _embedder(embedder),
        console=console,
    )
    print_manifest(done["manifest"], out_dir / "dataset")
    print_metrics(done["result"])
    out.print(f"report: {done['report']}   ({done['seconds']:.0f} s in all)")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="Folder with metrics.json and ranks.parquet.")],
    dataset: Annotated[Path, typer.Option(help="The prepared dataset that was evaluated.")],
    train_log: Annotated[
        list[Path] | None, typer.Option(help="Training run folder(s) whose curves to draw.")
    ] = None,
    profiles: Annotated[
        list[str] | None,
        typer.Option(
            help="Profile sets shown in the report, as NAME=PATH (repeatable); default: "
            "those found under RUN_DIR."
        ),
    ] = None,
    before_after: Annotated[
        list[str] | None,
        typer.Option(
            help="Two profile sets shown side by side per user, as BEFORE:AFTER "
            "(e.g. zero_shot:blue; repeatable)."
        ),
    ] = None,
) -> None:
    """(Re)write RUN_DIR/report.html from an evaluation's files."""
    from profilerec.data.dataset import Dataset

    pairs = []
    for spec in before_after or []:
        a, sep, b = spec.partition(":")
        if not (sep and a and b):
            raise UserError(f"--before-after {spec!r}: expected BEFORE:AFTER, e.g. zero_shot:blue")
        pairs.append((a, b))
    ds = Dataset.load(dataset)
    sets = _profile_sets(profiles) if profiles else None
    path = _report(run_dir, ds, sets, train_runs=train_log or [], before_after=pairs)
    out.print(f"report: {path}")


def _generator(spec: str, adapter: Path | None, batch_size: int, dtype: str = "auto"):  # type: ignore[no-untyped-def]
    from profilerec.llm import load_generator

    kwargs: dict[str, object] = {}
    if spec.split(":", 1)[0] in ("transformers", "smollm2"):
        kwargs["batch_size"] = batch_size
        kwargs["dtype"] = dtype
        if adapter is not None:
            from profilerec.methods.blue.trainer import adapter_dir, base_model_of

            kwargs["adapter"] = adapter_dir(adapter)
            base = base_model_of(adapter)
            if spec in ("transformers", "smollm2") and base is not None:
                spec = f"transformers:{base}"
    elif adapter is not None:
        raise UserError("--adapter works only with the transformers generator")
    elif dtype != "auto":
        raise UserError("--dtype works only with the transformers generator")
    with console.status(f"loading generator {spec} ..."):
        return load_generator(spec, **kwargs)


def _embedder(spec: str):  # type: ignore[no-untyped-def]
    from profilerec.embed import load_embedder
    from profilerec.paths import embedding_cache_dir

    with console.status(f"loading embedder {spec} ..."):
        return load_embedder(spec, cache_dir=embedding_cache_dir())


def _profile_sets(specs: list[str]) -> dict:  # type: ignore[type-arg]
    from profilerec.profile.stage import load_profiles

    sets = {}
    for spec in specs:
        name, _, path = spec.rpartition("=")
        frame = load_profiles(path)
        sets[name or str(frame["method"][0])] = frame
    return sets


def _report(  # type: ignore[no-untyped-def]
    run_dir: Path,
    ds,
    sets: dict | None,
    train_runs: list[Path] | None = None,  # type: ignore[type-arg]
    before_after: list[tuple[str, str]] | None = None,
) -> Path:
    from profilerec.report import build_from_dirs, load_train_log

    logs = {}
    for run in train_runs or []:
        log = run / "train_log.jsonl"
        if not log.is_file():
            raise UserError(f"{run}: no train_log.jsonl (not a `profilerec train` run folder?)")
        logs[run.name] = load_train_log(log)
    kwargs: dict[str, object] = {"train_logs": logs} if logs else {}
    if sets is not None:
        kwargs["profiles"] = sets
    if before_after:
        kwargs["before_after"] = before_after
    return build_from_dirs(run_dir, ds.root, **kwargs)


def print_metrics(result: dict) -> None:  # type: ignore[type-arg]
    """Recall/NDCG@10 with 95% CIs, then @50 and MRR: fits an 80-column terminal."""
    from rich import box

    table = Table(
        title=f"{result['split']}: {result['n_examples']} examples, {result['n_items']} items; "
        "95% bootstrap CI",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("method", no_wrap=True)
    for name in ("R@10", "95% CI", "N@10", "95% CI", "R@50", "N@50", "MRR"):
        table.add_column(name, justify="right", no_wrap=True)

    def num(x: float) -> str:
        return f"{x:.3f}".lstrip("0") if x < 1 else f"{x:.2f}"

    for method, values in result["metrics"].items():
        ci = result["ci"][method]
        cells = []
        for m in ("recall@10", "ndcg@10"):
            cells += [num(values[m]), f"{num(ci[m][0])}-{num(ci[m][1])}"]
        cells += [num(values[m]) for m in ("recall@50", "ndcg@50", "mrr")]
        table.add_row(method, *cells)
    out.print(table)


def print_manifest(manifest: dict, where: Path) -> None:  # type: ignore[type-arg]
    counts = manifest["counts"]
    table = Table(title=f"dataset written to {where}", show_header=False)
    for key in (
        "interactions_read",
        "duplicates_collapsed",
        "items_without_meta",
        "users",
        "items",
        "interactions",
    ):
        table.add_row(key.replace("_", " "), f"{counts[key]:,}")
    for split, n in counts["examples"].items():
        table.add_row(f"{split} examples", f"{n:,}")
    skipped = manifest["skipped"]
    if skipped["total"]:
        table.add_row("skipped (lenient)", f"{skipped['total']:,}: {skipped['by_reason']}")
    out.print(table)


def _pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise UserError(f"--column expects CANONICAL=SOURCE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def main() -> None:
    """Entry point: user mistakes become one red line and exit code 2, never a traceback."""
    try:
        app(standalone_mode=False)
    except UserError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted; finished work is kept and a re-run resumes it")
        sys.exit(130)
    except Exception as exc:  # click's own usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
