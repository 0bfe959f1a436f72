"""Loading the server's state once at start: dataset, vectors, profile sets, ID baselines,
and the stored users' rankings (``serve.ranked``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.evaluate.methods import history_for_embedding, mean_history, popularity
from profilerec.llm.base import Generator
from profilerec.llm.prompts import load_template
from profilerec.profile.stage import load_profiles
from profilerec.serve.ranked import rank_stored_users
from profilerec.serve.state import (
    BASELINE_METHODS,
    ProfileSet,
    ServeState,
    normalised,
)


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


def build_state(
    dataset: str | Path,
    embedder: Embedder,
    *,
    profiles: dict[str, Path] | None = None,
    generator: Generator | None = None,
    template: str = "profile",
    baselines: Sequence[str] = BASELINE_METHODS,
    hybrid_weight: float = 0.5,
    progress: Callable[[str], None] = lambda _: None,
    item_text_budget: int | None = None,
) -> ServeState:
    """Loads everything once; every later request only reads it.

    Items are rendered as ``evaluate`` renders them (its ``item_text_budget``, unless
    given), so a served text method ranks exactly as the evaluation did.
    """
    from profilerec.evaluate.stage import EvaluateConfig

    budget = item_text_budget or EvaluateConfig.item_text_budget
    if not 0.0 <= hybrid_weight <= 1.0:
        raise UserError(f"--hybrid-weight must be in [0, 1], not {hybrid_weight}")
    ds = Dataset.load(dataset)
    examples = served_examples(ds)
    if examples.height == 0:
        raise UserError(f"{dataset}: no test examples; prepare it with a test split")
    users = list(examples["user_id"])
    index = ds.item_index
    progress("embedding items")
    item_raw = np.asarray(embedder.embed(ds.item_texts(budget)), dtype=np.float32)
    item_vecs = normalised(item_raw)
    progress("embedding histories")
    history_vecs = torch.from_numpy(
        np.asarray(embedder.embed(history_for_embedding(ds, examples)), dtype=np.float32)
    )
    mean_vecs = torch.from_numpy(mean_history(ds, examples, item_raw).vectors)  # as evaluate
    pop = popularity(ds, examples.head(1)).scores(0, 1)[0].clone()  # type: ignore[misc]
    from profilerec.recsys.popularity import popularity_scores

    sets: dict[str, ProfileSet] = {}
    raw = {"history_text": history_vecs.numpy(), "mean_history": mean_vecs.numpy()}
    for name, path in (profiles or {}).items():
        progress(f"embedding profile set {name}")
        sets[name] = _load_profile_set(name, path, users, examples)
        raw[f"profile:{name}"] = np.asarray(
            embedder.embed([sets[name].rows[u]["profile"] for u in users]), dtype=np.float32
        )
        sets[name].vectors = normalised(raw[f"profile:{name}"])
    state = ServeState(
        ds=ds,
        embedder=embedder,
        item_vecs=item_vecs,
        examples=examples,
        users=users,
        user_row={u: i for i, u in enumerate(users)},
        seen=ds.seen_before(examples),
        targets=[index[i] for i in examples["item_id"]],
        history_vecs=history_vecs,
        mean_vecs=mean_vecs,
        popularity=pop,
        counts=popularity_scores(ds),
        profile_sets=sets,
        generator=generator,
        template=load_template(template) if generator is not None else None,
        hybrid_weight=hybrid_weight,
    )
    state.baselines = _fit_baselines(ds, baselines, progress)
    rank_stored_users(state, raw, item_raw)
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
    return ProfileSet(name, rows, torch.empty(0))


def _fit_baselines(
    ds: Dataset, names: Sequence[str], progress: Callable[[str], None]
) -> dict[str, Any]:
    """ID baselines from ``profilerec.recsys.baselines`` (engineer "baselines"), when installed."""
    if not names:
        return {}
    try:
        from profilerec.recsys.baselines import build_baseline  # type: ignore[import-not-found]
    except ImportError:
        return {}
    out = {}
    for name in names:
        progress(f"fitting {name}")
        out[name] = build_baseline(name).fit(ds)
    return out
