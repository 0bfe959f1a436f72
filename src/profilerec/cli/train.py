"""``train``: its options, and what it runs for each method.

BLUE and its baselines train the profiler LLM (GRPO); ProEx and PtE train recommenders on
profile embeddings written by their own profile commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from profilerec.cli.app import app, out
from profilerec.cli.engine import (
    RayAddressOption,
    TrainEngineOption,
    TrainWorkerGpusOption,
    TrainWorkersOption,
    refuse_engine_flags,
)
from profilerec.cli.loaders import make_embedder
from profilerec.cli.tables import print_metrics
from profilerec.cli.train_request import (
    EMBEDDER_METHODS,
    ENGINE_METHODS,
    PROFILER_METHODS,
    RECOMMENDER_METHODS,
    TrainRequest,
    _check_positive,
    _length_flags,
    _only_for,
    _overrides,
)
from profilerec.configs import from_mapping, parse_sets, read_yaml_options
from profilerec.errors import UserError


def run_train(req: TrainRequest, load_embedder: Any) -> str:
    """Train as ``req`` asks; returns the line to print."""
    req = _length_flags(req)
    refuse_engine_flags(
        req.method, req.method in ENGINE_METHODS, req.engine,
        req.workers, req.ray_address, req.worker_gpus,
    )  # fmt: skip
    if req.method == "rft":
        return _train_rft(req, load_embedder)
    if req.method in PROFILER_METHODS:
        return _train_profiler(req, load_embedder)
    if req.method == "proex":
        return _train_proex(req, load_embedder)
    if req.method == "pte":
        return _train_pte(req, load_embedder)
    if req.method == "embedder":
        return _train_embedder(req)
    raise UserError(
        f"unknown training method {req.method!r}; choose one of "
        f"{', '.join(PROFILER_METHODS + RECOMMENDER_METHODS + EMBEDDER_METHODS)}"
    )


def _train_profiler(req: TrainRequest, load_embedder: Any) -> str:
    from profilerec.data.dataset import Dataset
    from profilerec.methods.blue.config import BlueConfig
    from profilerec.methods.blue.trainer import train_blue
    from profilerec.methods.blue.trl_options import nest_dotted

    _only_for(req, {"--model"})
    data = read_yaml_options(req.config, "blue") if req.config else {}
    overrides = _overrides(
        nest_dotted(req.sets, data),  # --set trl.KEY=VALUE: one TRL GRPOConfig option
        reward=req.method,
        max_steps=req.max_steps,
        model=req.model,
        embedder=req.embedder,
        seed=req.seed,
    )
    source = str(req.config) if req.config else "--set"
    cfg = from_mapping(BlueConfig, data, source, **overrides)
    _check_positive(cfg, source, ("learning_rate", "max_steps", "num_generations"))
    _check_template(cfg.template)
    ds = Dataset.load(req.dataset)
    summary = train_blue(ds, load_embedder(cfg.embedder), req.out_dir, cfg)
    best = summary["best"] or {}
    return (
        f"trained {summary['steps']} steps in {summary['seconds']:.0f} s; best validation "
        f"NDCG@10 {best.get('valid_ndcg@10', float('nan')):.4f} at step {best.get('step')}; "
        f"adapter in {req.out_dir}"
    )


def _check_template(name: str) -> None:
    """The profiler's prompt template, checked before the model loads (issue 32)."""
    from profilerec.llm.prompts import load_template
    from profilerec.profile.prompts import check_profile_template

    check_profile_template(load_template(name))


def _train_rft(req: TrainRequest, load_embedder: Any) -> str:
    from profilerec.data.dataset import Dataset
    from profilerec.methods.rft import RFTConfig, train_rft

    _only_for(req, {"--model"})
    engine = {"engine": req.engine, "workers": req.workers, "ray_address": req.ray_address}
    overrides = _overrides(
        req.sets, rounds=req.rounds, model=req.model, embedder=req.embedder, seed=req.seed,
        worker_gpus=req.worker_gpus, **engine,
    )  # fmt: skip
    data = read_yaml_options(req.config, "rft") if req.config else {}
    source = str(req.config) if req.config else "--set"
    cfg = from_mapping(RFTConfig, data, source, **overrides)
    _check_template(cfg.template)  # train_rft checks --engine ray's extra before models load
    ds = Dataset.load(req.dataset)
    s = train_rft(ds, load_embedder(cfg.embedder), req.out_dir, cfg)
    return (
        f"validation NDCG@10 {s['round0_valid_ndcg@10']:.4f} (untrained) -> best "
        f"{s['best_valid_ndcg@10']:.4f} (round {s['best_round']}); adapter in {req.out_dir}"
    )


def _train_proex(req: TrainRequest, load_embedder: Any) -> str:
    from profilerec.data.dataset import Dataset
    from profilerec.methods.proex.config import BACKBONE_CONFIGS, ProExConfig
    from profilerec.methods.proex.cot import profile_vectors
    from profilerec.methods.proex.run import run_proex

    _only_for(req, {"--backbone", "--profiles", "--k"})
    if req.profiles is None:
        raise UserError(
            "--method proex needs --profiles DIR (written by `profilerec proex-profiles`)"
        )
    backbones = req.backbones or ["lightgcn"]
    unknown = [b for b in backbones if b not in BACKBONE_CONFIGS]
    if unknown:
        raise UserError(
            f"unknown backbone {unknown[0]!r} for proex; choose from {', '.join(BACKBONE_CONFIGS)}"
        )
    data = read_yaml_options(req.config, "proex") if req.config else {}
    source = str(req.config) if req.config else "--set"
    cfg = from_mapping(ProExConfig, data, source, **_overrides(req.sets, seed=req.seed))
    ds = Dataset.load(req.dataset)
    users, items, diversity = profile_vectors(
        ds, req.profiles, load_embedder(req.embedder or "sentence-transformers"), k=req.k
    )
    backbone_configs = (
        {b: BACKBONE_CONFIGS[b](epochs=req.epochs) for b in backbones}  # type: ignore[call-arg]
        if req.epochs
        else None
    )
    result = run_proex(
        ds,
        req.out_dir,
        backbones=backbones,
        user_vecs=users,
        item_vecs=items,
        config=cfg,
        diversity=diversity,
        backbone_configs=backbone_configs,
    )
    print_metrics(result)
    return f"metrics and ranks written to {req.out_dir}"


def _train_pte(req: TrainRequest, load_embedder: Any) -> str:
    from profilerec.data.dataset import Dataset
    from profilerec.methods.pte.run import PtERunConfig, run_pte

    _only_for(req, {"--backbone", "--profiles"})
    if req.profiles is None:
        raise UserError("--method pte needs --profiles DIR (written by `profilerec pte-profiles`)")
    data = read_yaml_options(req.config, "pte") if req.config else {}
    source = str(req.config) if req.config else "--set"
    overrides = _overrides(req.sets, seed=req.seed, epochs=req.epochs)
    cfg = from_mapping(PtERunConfig, data, source, **overrides)
    ds = Dataset.load(req.dataset)
    result = run_pte(
        ds,
        req.out_dir,
        backbones=req.backbones or ["sasrec", "dreamrec"],
        profiles_dir=req.profiles,
        embedder=load_embedder(req.embedder or "sentence-transformers"),
        config=cfg,
    )
    print_metrics(result)
    return f"metrics, slices and ranks written to {req.out_dir}"


def _check_positions(spec: str, max_seq_length: int, source: str) -> None:
    """``max_seq_length`` within the positions a local embedder reads, from its config.json
    before it loads (100000 once failed deep inside the first training batch)."""
    import json

    from profilerec.embed.st import bundled_model_path

    kind, _, target = spec.partition(":")
    if kind not in ("sentence-transformers", "minilm"):
        return
    folder = Path(target) if target else bundled_model_path()
    try:
        limit = json.loads((folder / "config.json").read_text()).get("max_position_embeddings")
    except (OSError, ValueError, AttributeError):
        return  # a hub id or an unusual folder: the model itself reports it
    if isinstance(limit, int) and max_seq_length > limit:
        raise UserError(
            f"{source}: max_seq_length {max_seq_length} is beyond the {limit} positions "
            f"{spec} reads"
        )


def _train_embedder(req: TrainRequest) -> str:
    from profilerec.data.dataset import Dataset
    from profilerec.methods.embedder import EmbedderTuneConfig, tune_embedder

    _only_for(req, set())
    data = read_yaml_options(req.config, "embedder") if req.config else {}
    source = str(req.config) if req.config else "--set"
    overrides = _overrides(req.sets, seed=req.seed, epochs=req.epochs, embedder=req.embedder)
    cfg = from_mapping(EmbedderTuneConfig, data, source, **overrides)
    _check_positions(cfg.embedder, cfg.max_seq_length, source)
    ds = Dataset.load(req.dataset)
    summary = tune_embedder(ds, req.out_dir, cfg)
    first = summary["epochs"][0]["valid_ndcg@10"]
    return (
        f"{summary['n_pairs']} training pairs; validation NDCG@10 {first:.4f} (base) -> "
        f"{summary['best_valid_ndcg@10']:.4f} (epoch {summary['best_epoch']}); evaluate with "
        f"--embedder sentence-transformers:{summary['embedder']}"
    )


@app.command()
def train(
    dataset: Annotated[Path, typer.Argument(help="Prepared dataset folder.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Run folder (adapter or model, logs, metrics).")
    ],
    method: Annotated[
        str,
        typer.Option(
            help="blue, rlpf or judge (train the profiler LLM with GRPO); rft (best-of-N "
            "profiles by BLUE's reward, distilled by LoRA SFT); proex or pte (train a "
            "recommender on profile embeddings); embedder (fine-tune the retrieval embedder "
            "on training pairs)."
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
        typer.Option(help="blue/rlpf/judge: GRPO optimisation steps (the max_steps option)."),
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option(help="rft: sample-select-train rounds (the rounds option)."),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(help="proex/pte: epochs of each backbone; embedder: epochs of the embedder."),
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
    engine: TrainEngineOption = None,
    workers: TrainWorkersOption = None,
    ray_address: RayAddressOption = None,
    worker_gpus: TrainWorkerGpusOption = None,
) -> None:
    """Train the profiler with GRPO (BLUE or a baseline reward; resumes from the last
    checkpoint), or a recommender on profile embeddings (ProEx, PtE). Each method counts its
    length in its own flag: --max-steps (GRPO), --rounds (rft), --epochs (proex, pte,
    embedder); docs/training.md."""
    from profilerec.outputs import check_out

    inputs = [dataset, *([profiles] if profiles else [])]
    check_out(out_dir, ("training run", "evaluation"), inputs=inputs)
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
        rounds=rounds,
        epochs=epochs,
        engine=engine,
        workers=workers,
        ray_address=ray_address,
        worker_gpus=worker_gpus,
    )
    out.print(run_train(request, make_embedder))
