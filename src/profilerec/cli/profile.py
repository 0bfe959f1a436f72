"""``profile``, ``proex-profiles``, ``pte-profiles``: commands that write profile sets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from profilerec.cli.app import DeviceOption, DtypeOption, app, out
from profilerec.cli.engine import (
    EngineOption,
    RayAddressOption,
    WorkerGpusOption,
    WorkersOption,
    make_runner,
    ray_options,
)
from profilerec.cli.loaders import make_embedder, make_generator  # noqa: F401 (patched by tests)
from profilerec.profile.prompts import HistoryFormat

if TYPE_CHECKING:
    from profilerec.profile.runs import ProfilerRun


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
        list[str] | None, typer.Option(help="Split(s) to profile (repeatable; default test).")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=0, help="Profile only the first N examples per split (0 = all).")
    ] = 0,
    sample_users: Annotated[
        int,
        typer.Option(
            min=0,
            help="Profile only the latest example of N users drawn at random (--seed) per split (0 = every example).",
        ),
    ] = 0,
    template: Annotated[str, typer.Option(help="Prompt template name or file.")] = "profile",
    history_items: Annotated[
        int | None,
        typer.Option(
            min=1, help="History items shown (most recent; default 10, or the --adapter run's)."
        ),
    ] = None,
    item_chars: Annotated[
        int | None, typer.Option(min=1, help="Characters of each item title (default 60).")
    ] = None,
    snippet_chars: Annotated[
        int | None,
        typer.Option(min=0, help="Characters of each review snippet (default 40; 0 = none)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Prompts per generation batch.")] = 16,
    max_new_tokens: Annotated[int, typer.Option(help="Maximum profile length in tokens.")] = 96,
    temperature: Annotated[float, typer.Option(help="0 = greedy; > 0 samples.")] = 0.0,
    top_p: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Nucleus sampling mass (sampling only).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    no_repeat_ngram: Annotated[
        int,
        typer.Option(
            min=0,
            help="Forbid repeating any n-gram of this many tokens (0 = off; transformers backend only).",
        ),
    ] = 0,
    allow_exposed: Annotated[
        bool,
        typer.Option(
            help="Profile examples whose target reached the --adapter run's training anyway (refused by default: their scores would be leaked)."
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            help="Replace the profiles in --out even when this run would drop some of them or "
            "uses other settings (a rerun otherwise resumes or is refused)."
        ),
    ] = False,
    dtype: DtypeOption = "auto",
    device: DeviceOption = "auto",
    engine: EngineOption = "local",
    workers: WorkersOption = 2,
    ray_address: RayAddressOption = None,
    worker_gpus: WorkerGpusOption = 0.0,
) -> None:
    """Write one LLM profile per example (batched, cached, resumable)."""
    import dataclasses

    from profilerec.data.dataset import Dataset
    from profilerec.llm.base import GenerationConfig
    from profilerec.outputs import check_out
    from profilerec.profile.guard import check_rerun
    from profilerec.profile.profiler import Profiler
    from profilerec.profile.runs import ProfilerRun
    from profilerec.profile.stage import ProfileConfig, select_examples

    check_out(out_dir, "profile set", inputs=[dataset])
    ds = Dataset.load(dataset)
    run = ProfilerRun.read(adapter) if adapter is not None else None
    history = _history_format(run, history_items, item_chars, snippet_chars)
    config = ProfileConfig(
        method=method,
        template=template,
        history=history,
        splits=tuple(dict.fromkeys(split or ["test"])),  # a split given twice counts once
        batch_size=batch_size,
        limit=limit,
        sample_users=sample_users,
        sample_seed=seed,
        generation=GenerationConfig(
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            no_repeat_ngram_size=no_repeat_ngram,
            seed=seed,
        ),
    )
    # cheap checks before the model loads: the splits exist, the template parses
    from profilerec.llm.prompts import load_template
    from profilerec.profile.prompts import check_profile_template
    from profilerec.validation import check_flag

    for name in config.splits:
        ds.split(name)
    check_profile_template(load_template(template))
    check_flag("--temperature", temperature, ge=0)  # 0 = greedy
    check_flag("--top-p", top_p, gt=0, le=1)
    check_flag("--max-new-tokens", max_new_tokens, ge=1)
    check_flag("--batch-size", batch_size, ge=1)
    examples = select_examples(ds, config)
    check_rerun(out_dir, examples["example_id"], dataclasses.asdict(config), overwrite)
    if run is not None:  # refused before the model loads, hence not left to the Profiler
        note = run.check_exposure(examples, allow=allow_exposed)
        if note:
            out.print(f"note: {note}")
    engine_options = ray_options(engine, workers, ray_address, worker_gpus)
    gen = make_runner(engine_options, generator, adapter, batch_size, dtype, device)
    profiler = Profiler(gen, template=template, history=history, generation=config.generation)
    path = profiler.write(ds, out_dir, config, overwrite=overwrite)
    out.print(f"profiles written to {path}")


def _history_format(
    run: ProfilerRun | None, items: int | None, item_chars: int | None, snippet_chars: int | None
) -> HistoryFormat:
    """The default format, or the one the adapter's run trained on; explicit options win.

    A profiler trained on compact prompts must be asked in the same format at test time, so
    a run folder's format is the default for its adapter (``ProfilerRun.history_format``).
    """
    given = {"max_items": items, "item_chars": item_chars, "snippet_chars": snippet_chars}
    if run is None:
        return replace(HistoryFormat(), **{k: v for k, v in given.items() if v is not None})
    trained = run.trained_history
    if trained is not None and trained != HistoryFormat():
        out.print(f"history format of the adapter's run: {trained}")
    return run.history_format(**given)


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
    engine: EngineOption = "local",
    workers: WorkersOption = 2,
    ray_address: RayAddressOption = None,
    worker_gpus: WorkerGpusOption = 0.0,
) -> None:
    """ProEx's four-step chain of thought: K profiles per user and item (resumable)."""
    from profilerec.data.dataset import Dataset
    from profilerec.methods.proex.cot import ProExProfilesConfig, run_proex_profiles
    from profilerec.outputs import check_out

    check_out(out_dir, "ProEx profile set", inputs=[dataset])
    ds = Dataset.load(dataset)
    cfg = ProExProfilesConfig(
        k=k,
        entities=entities,  # type: ignore[arg-type]
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seed=seed,
    )
    # --engine ray: each actor runs whole chains (cot.ChainWork), the driver writes the parts
    gen = make_runner(
        ray_options(engine, workers, ray_address, worker_gpus), generator, None, batch_size, dtype
    )
    path = run_proex_profiles(ds, gen, out_dir, cfg)
    out.print(f"profiles written to {path}")


@app.command("pte-profiles")
def pte_profiles(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for users/items.parquet.")],
    rounds: Annotated[
        int | None,
        typer.Option(
            help="Refinement rounds after round 0 (0 = single pass; default 1, or --config's).",
            show_default=False,
        ),
    ] = None,
    candidates: Annotated[
        int | None,
        typer.Option(
            help="Candidate profiles per user and item (final round; default 4, or --config's).",
            show_default=False,
        ),
    ] = None,
    generator: Annotated[
        str, typer.Option(help="transformers (bundled SmolLM2), transformers:ID_OR_PATH, ...")
    ] = "transformers",
    embedder: Annotated[
        str, typer.Option(help="Embedder of the selection reward.")
    ] = "sentence-transformers",
    batch_size: Annotated[
        int | None,
        typer.Option(
            help="Prompts per generation batch (default 16, or --config's).", show_default=False
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML file of PtEProfilesConfig options.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one option, KEY=VALUE (YAML value; repeatable)."),
    ] = None,
    dtype: DtypeOption = "auto",
    engine: EngineOption = "local",
    workers: WorkersOption = 2,
    ray_address: RayAddressOption = None,
    worker_gpus: WorkerGpusOption = 0.0,
) -> None:
    """PtE's bidirectional user/item profiles, refined in rounds, candidates selected by a
    group-relative collaborative reward (resumable)."""
    from profilerec.configs import from_mapping, parse_sets, read_yaml_options
    from profilerec.data.dataset import Dataset
    from profilerec.methods.pte.profiling import PtEProfilesConfig, run_pte_profiles
    from profilerec.outputs import check_out

    check_out(out_dir, "PtE profile set", inputs=[dataset])
    data = read_yaml_options(config, "pte") if config else {}
    overrides = {
        **parse_sets(set_ or []),
        "rounds": rounds,
        "candidates": candidates,
        "batch_size": batch_size,
    }
    cfg = from_mapping(PtEProfilesConfig, data, str(config or "--set"), **overrides)
    ds = Dataset.load(dataset)
    # --engine ray: each round's batches on the actors; selection stays in this process
    engine_options = ray_options(engine, workers, ray_address, worker_gpus)
    gen = make_runner(engine_options, generator, None, cfg.batch_size, dtype)
    path = run_pte_profiles(ds, gen, make_embedder(embedder), out_dir, cfg)
    out.print(f"profiles written to {path}")
