"""Loading the server's state once at start: dataset, vectors, profile sets, the ID models
and methods of the evaluation it serves (``serve.evaluated``), and the stored users'
rankings (``serve.ranked``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig
from profilerec.profile.stage import load_profiles
from profilerec.serve.evaluated import fit_id_models, read_evaluation, served_methods
from profilerec.serve.types import ProfileSet, ServeState

if TYPE_CHECKING:
    from profilerec.embed.base import Embedder
    from profilerec.llm.base import Generator
    from profilerec.profile.profiler import Profiler


def parse_profile_args(pairs: Sequence[str]) -> dict[str, Path]:
    """``NAME=DIR`` pairs, checked before anything loads."""
    out: dict[str, Path] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise UserError(f"--profiles needs NAME=DIR, got {pair!r}")
        if name in out:
            raise UserError(f"profile set name {name!r} given twice")
        out[name.strip()] = Path(path.strip())
    return out


#: Decoding of ad-hoc profiles: greedy, at most 64 new tokens (a request waits for it).
AD_HOC_GENERATION = GenerationConfig(max_new_tokens=64)


def build_state(
    dataset: str | Path,
    embedder: Embedder,
    *,
    profiles: dict[str, Path] | None = None,
    generator: Generator | Profiler | None = None,
    template: str = "profile",
    evaluation: str | Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> ServeState:
    """Loads everything once; every later request only reads it.

    With ``evaluation`` (an evaluate folder or its metrics.json) the server offers exactly
    the methods it reports, fitted, fused and ranked as it did (``serve.evaluated``), items
    rendered at its text budget, so every served top-k equals its ``ranks.parquet``.
    """
    # here, in the loading thread: the server imports this module before it binds its port
    import numpy as np
    import torch
    import torch.nn.functional as F

    from profilerec.profile.profiler import Profiler
    from profilerec.recsys.popularity import popularity_scores
    from profilerec.recsys.sequences import sasrec_histories
    from profilerec.serve.ranked import rank_stored_users

    ds = Dataset.load(dataset)
    chosen = read_evaluation(evaluation, ds)
    profiler = (
        generator
        if isinstance(generator, Profiler) or generator is None
        else Profiler(generator, template=template, generation=AD_HOC_GENERATION)
    )
    examples = served_examples(ds)
    if examples.height == 0:
        raise UserError(f"{dataset}: no test examples; prepare it with a test split")
    users = list(examples["user_id"])
    index = ds.item_index
    progress("embedding items")
    item_raw = np.asarray(embedder.embed(ds.item_texts(chosen.item_text_budget)), dtype=np.float32)
    sets = {
        name: _load_profile_set(name, path, users, examples)
        for name, path in (profiles or {}).items()
    }
    targets = [index[i] for i in examples["item_id"]]
    state = ServeState(
        ds=ds,
        embedder=embedder,
        item_raw=item_raw,
        item_vecs=F.normalize(torch.from_numpy(item_raw), dim=1),
        examples=examples,
        users=users,
        user_row={u: i for i, u in enumerate(users)},
        seen=ds.seen_before(examples) if chosen.mask_history else [[] for _ in targets],
        targets=targets,
        counts=popularity_scores(ds),
        profile_sets=sets,
        served=served_methods(chosen, list(sets), progress),
        id_histories=sasrec_histories(ds, examples),
        evaluation=chosen.path,
        profiler=profiler,
        generator=profiler.generator if profiler is not None else None,  # type: ignore[arg-type]
    )
    state.id_models = fit_id_models(ds, chosen, state.served, progress)
    progress("ranking the stored users")
    rank_stored_users(state, chosen.k, chosen.chunk_size)
    return state


def served_examples(ds: Dataset) -> pl.DataFrame:
    """The example served per user: the user's latest test example."""
    return ds.split("test").sort("example_id").unique("user_id", keep="last", maintain_order=True)


def _load_profile_set(
    name: str, path: Path, users: list[str], examples: pl.DataFrame
) -> ProfileSet:
    frame = load_profiles(path)
    if "profile" not in frame.columns or "user_id" not in frame.columns:
        raise UserError(f"{path}: profiles need user_id and profile columns")
    if "example_id" in frame.columns:  # the served example's row, not whichever came last
        frame = frame.filter(pl.col("example_id").is_in(examples["example_id"].implode()))
    elif "split" in frame.columns:
        frame = frame.filter(pl.col("split") == "test")
    rows = {r["user_id"]: r for r in frame.drop("prompt", strict=False).iter_rows(named=True)}
    missing = [u for u in users if u not in rows]
    if missing:
        raise UserError(
            f"profile set {name!r} ({path}) lacks {len(missing)} of {len(users)} test users "
            f"(first {missing[0]}); profile the test split of the same dataset"
        )
    for r in rows.values():
        if isinstance(r.get("generation"), str):
            r["generation"] = json.loads(r["generation"])
    texts = [rows[u]["profile"] for u in examples["user_id"]]  # what the registry reads
    return ProfileSet(
        name, rows, pl.DataFrame({"example_id": examples["example_id"], "profile": texts})
    )
