"""ProEx profile extrapolation: K profiles per user and per item by a four-step chain of thought.

F1 writes the original profile from what is known (a user's *training* interactions; an
item's metadata and the reviews of its *training* interactions), F2 its positive and
negative aspects, F3 the latent preferences behind them, and F4 K-1 new profiles that say
the same in other words and structure (sampled, each with its own seed and style hint), so
the K vectors cover more of the language space than one profile does. F1-F3 are greedy.

Runs on the one generation engine (``profilerec.engines.generation``), like the ``profile``
stage: a batch's work is its whole chain (:class:`ChainWork`), so entities are cut into fixed
batches, each batch's chains are written as one part file (``user-NNNNNN.parquet``: one JSON
``[texts, f2, f3]`` per entity, keyed by a hash of its F1 prompt, the model and the chain's
settings), and every generation call seeds itself from its prompts, so a killed and resumed
run writes exactly what an uninterrupted one would, and ``--engine ray`` runs the chains on
a Ray actor pool. Part files of the earlier scheme (columns key, texts, f2, f3) still resume.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from profilerec.atomic import write_file_atomic, write_text_atomic
from profilerec.data.dataset import Dataset
from profilerec.data.text import HistoryEntry, render_history, render_item
from profilerec.embed.base import Embedder
from profilerec.engines.generation import (
    PARTS_DIR,
    BatchRunner,
    as_runner,
    cache_key,
    generate_missing,
    load_parts,
    plan_batches,
)
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Generator, Messages
from profilerec.methods.proex.settings import NOUN, Kind, ProExProfilesConfig, Templates
from profilerec.progress import Advancer, progress_bar
from profilerec.recsys.graph import user_order

__all__ = [
    "CONFIG_FILE",
    "ITEM_FILE",
    "NO_HISTORY",
    "NO_REVIEWS",
    "USER_FILE",
    "ChainWork",
    "Kind",
    "ProExProfilesConfig",
    "Templates",
    "f1_prompts",
    "profile_vectors",
    "run_proex_profiles",
]

USER_FILE = "user_profiles.parquet"
ITEM_FILE = "item_profiles.parquet"
CONFIG_FILE = "proex_profiles_config.json"
NO_HISTORY = "(no history: this customer has no purchases yet)"
NO_REVIEWS = "(no reviews yet)"
#: The part-file column of a chain (``json.dumps([texts, f2, f3])``).
CHAIN_COLUMN = "chain"


# ---- F1 inputs: training interactions only -------------------------------------------------


def _train_rows(ds: Dataset) -> pl.DataFrame:
    """Training interactions with item titles, oldest first per user (ties keep file order)."""
    return (
        ds.train_interactions()
        .join(ds.items.select("item_id", "title"), on="item_id", how="left")
        .sort("user_id", "timestamp", maintain_order=True)
    )


def user_histories(ds: Dataset, config: ProExProfilesConfig) -> list[tuple[str, str]]:
    """(user_id, rendered recent training history) for every user in ``user_order(ds)``."""
    entries: dict[str, list[HistoryEntry]] = {}
    for row in _train_rows(ds).iter_rows(named=True):
        entries.setdefault(row["user_id"], []).append(
            HistoryEntry(
                title=row["title"] or row["item_id"],
                rating=row["rating"],
                review_title=row["review_title"] or "",
                review_text=row["review_text"] or "",
            )
        )
    out = []
    for user in user_order(ds):
        shown = render_history(
            entries.get(user, []),
            max_items=config.history_items,
            item_chars=config.item_chars,
            snippet_chars=config.snippet_chars,
            with_reviews=config.snippet_chars > 0,
        )
        out.append((user, shown or NO_HISTORY))
    return out


def item_descriptions(ds: Dataset, config: ProExProfilesConfig) -> list[tuple[str, str, str]]:
    """(item_id, metadata text, recent training reviews) in catalogue order."""
    reviews: dict[str, list[str]] = {}
    for row in (
        _train_rows(ds).sort("item_id", "timestamp", maintain_order=True).iter_rows(named=True)
    ):
        text = " - ".join(x for x in (row["review_title"], row["review_text"]) if x)
        line = f"- rated {row['rating']:g}/5" if row["rating"] is not None else "-"
        if text and config.snippet_chars > 0:
            snippet = " ".join(text.split())
            if len(snippet) > config.snippet_chars:
                snippet = snippet[: max(config.snippet_chars - 3, 0)] + "..."
            line += f': "{snippet}"'
        reviews.setdefault(row["item_id"], []).append(line)
    out = []
    for item in ds.items.iter_rows(named=True):
        shown = (
            reviews.get(item["item_id"], [])[-config.item_reviews :] if config.item_reviews else []
        )
        out.append(
            (
                item["item_id"],
                render_item(item, budget=config.item_budget),
                "\n".join(shown) or NO_REVIEWS,
            )
        )
    return out


def f1_prompts(
    ds: Dataset, kind: Kind, config: ProExProfilesConfig, templates: Templates
) -> tuple[list[str], list[Messages]]:
    """Entity ids (user_order / catalogue order) and their F1 prompts."""
    if kind == "user":
        pairs = user_histories(ds, config)
        return [u for u, _ in pairs], [templates.f1_user.render(history=h) for _, h in pairs]
    triples = item_descriptions(ds, config)
    return [i for i, _, _ in triples], [
        templates.f1_item.render(item=m, reviews=r) for _, m, r in triples
    ]


# ---- the chain ------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _generate(generator: Generator, prompts: list[Messages], gen: GenerationConfig) -> list[str]:
    texts = generator.generate(prompts, gen)
    if len(texts) != len(prompts):
        raise RuntimeError(f"generator returned {len(texts)} texts for {len(prompts)} prompts")
    return [_one_line(t) for t in texts]


def run_chain(
    generator: Generator,
    kind: Kind,
    prompts: list[Messages],
    config: ProExProfilesConfig,
    templates: Templates,
) -> tuple[list[list[str]], list[str | None], list[str | None]]:
    """F1..F4 for one batch: (K texts per entity, F1 first; F2 texts; F3 texts).

    One generation call per step (F4: one per new profile), so a batch costs 3 + (K-1)
    calls, and K = 1 costs only the F1 call.
    """
    noun = NOUN[kind]
    f1 = _generate(generator, prompts, config.greedy())
    if config.k == 1:
        return [[t] for t in f1], [None] * len(f1), [None] * len(f1)
    f2 = _generate(generator, [templates.f2.render(entity=noun, f1=a) for a in f1], config.greedy())
    f3 = _generate(
        generator,
        [templates.f3.render(entity=noun, f1=a, f2=b) for a, b in zip(f1, f2, strict=True)],
        config.greedy(),
    )
    texts = [[a] for a in f1]
    for j in range(1, config.k):
        style = config.styles[(j - 1) % len(config.styles)]
        f4_prompts = [
            templates.f4.render(entity=noun, f1=a, f2=b, f3=c, number=str(j + 1), style=style)
            for a, b, c in zip(f1, f2, f3, strict=True)
        ]
        for row, text in zip(
            texts, _generate(generator, f4_prompts, config.sampled(j)), strict=True
        ):
            row.append(text)
    f2_out: list[str | None] = [*f2]
    f3_out: list[str | None] = [*f3]
    return texts, f2_out, f3_out


@dataclass(frozen=True)
class ChainWork:
    """One batch's chains as engine work (picklable, so Ray actors run it as it is here)."""

    kind: Kind
    config: ProExProfilesConfig
    templates: Templates

    def __call__(self, generator: Generator, prompts: list[Messages]) -> list[str]:
        """One ``json.dumps([texts, f2, f3])`` per F1 prompt."""
        texts, f2, f3 = run_chain(generator, self.kind, prompts, self.config, self.templates)
        return [
            json.dumps([t, b, c], ensure_ascii=False) for t, b, c in zip(texts, f2, f3, strict=True)
        ]


def chain_keys(
    kind: Kind,
    ids: list[str],
    prompts: list[Messages],
    model_id: str,
    config: ProExProfilesConfig,
    templates: Templates,
) -> list[str]:
    """Per entity: its id, its F1 step's cache key and everything the later steps read.

    The id is part of the key so two entities with the same F1 prompt keep their own
    (sampled) chains, and a resumed run never takes one entity's texts for another's.
    """
    chain = json.dumps(
        [kind, config.k, dataclasses.asdict(config.sampled(1)), config.styles, templates.digest()]
        if config.k > 1
        else [kind, 1, templates.digest()[:2]],
        sort_keys=True,
    )
    gen = config.greedy()
    return [
        hashlib.sha256(json.dumps([e, cache_key(p, model_id, gen), chain]).encode()).hexdigest()
        for e, p in zip(ids, prompts, strict=True)
    ]


# ---- the stage --------------------------------------------------------------------------------


def run_proex_profiles(
    ds: Dataset,
    generator: Generator | BatchRunner,
    out_dir: str | Path,
    config: ProExProfilesConfig,
    *,
    progress: bool = True,
    stop_after_batches: int | None = None,
) -> Path:
    """Write ``user_profiles.parquet`` / ``item_profiles.parquet`` (one row per entity and k)
    to ``out_dir`` and return it. ``generator`` is a Generator or any ``BatchRunner`` (e.g.
    ``RayRunner``); ``stop_after_batches`` simulates a kill after that many batches (tests)."""
    runner = as_runner(generator)
    out_dir = Path(out_dir)
    parts_dir = out_dir / PARTS_DIR
    parts_dir.mkdir(parents=True, exist_ok=True)
    templates = Templates.load()
    write_text_atomic(
        out_dir / CONFIG_FILE,
        json.dumps({**dataclasses.asdict(config), "model_id": runner.model_id}, indent=2),
    )
    generated = 0
    chains: dict[Kind, tuple[list[str], list[str], dict[str, str]]] = {}
    for kind in config.kinds:
        ids, prompts = f1_prompts(ds, kind, config, templates)
        keys = chain_keys(kind, ids, prompts, runner.model_id, config, templates)
        done = {**_load_legacy(parts_dir, kind), **load_parts(parts_dir, kind, CHAIN_COLUMN)}
        todo = plan_batches(keys, config.batch_size, done)
        resumed = len(ids) - sum(len(r) for r in todo)
        # a rich bar on a terminal; in a log, a line every few seconds (done/total, rate, ETA)
        with progress_bar(
            f"ProEx {kind} profiles (K={config.k})", len(ids), done=resumed, enabled=progress
        ) as bar:

            def advance(n: int, bar: Advancer = bar) -> None:
                nonlocal generated
                generated += 1
                bar.advance(n)

            generate_missing(
                list(zip(keys, prompts, strict=True)),
                runner,
                ChainWork(kind, config, templates),
                parts_dir,
                batch_size=config.batch_size,
                prefix=kind,
                column=CHAIN_COLUMN,
                done=done,
                on_batch=advance,
                stop_after_batches=None
                if stop_after_batches is None
                else max(stop_after_batches - generated, 0),
            )
            chains[kind] = (ids, keys, done)
    for kind, (ids, keys, done) in chains.items():
        frame = pl.DataFrame(
            [
                {f"{kind}_id": e, "k": k, "text": text, "f2": f2, "f3": f3}
                for e, key in zip(ids, keys, strict=True)
                for texts, f2, f3 in [json.loads(done[key])]
                for k, text in enumerate(texts)
            ],
            schema={
                f"{kind}_id": pl.String,
                "k": pl.Int32,
                "text": pl.String,
                "f2": pl.String,
                "f3": pl.String,
            },
        )
        write_file_atomic(
            out_dir / (USER_FILE if kind == "user" else ITEM_FILE), frame.write_parquet
        )
    return out_dir


def _load_legacy(parts_dir: Path, kind: Kind) -> dict[str, str]:
    """Chains from part files of the scheme before the engine (key, texts, f2, f3 columns),
    in the engine's text form, so a run killed under that scheme resumes."""
    done: dict[str, str] = {}
    for path in sorted(parts_dir.glob(f"{kind}-*.parquet")):
        frame = pl.read_parquet(path)
        if "texts" in frame.columns and "key" in frame.columns:
            for key, texts, f2, f3 in zip(
                frame["key"], frame["texts"].to_list(), frame["f2"], frame["f3"], strict=True
            ):
                done[key] = json.dumps([list(texts), f2, f3], ensure_ascii=False)
    return done


# ---- vectors --------------------------------------------------------------------------------


def mean_pairwise_cosine(vectors: np.ndarray) -> float | None:
    """``[N, K, d]`` -> mean over entities of the mean cosine between their K vectors.

    1.0 means the K profiles collapsed onto one direction; None when K = 1.
    """
    n, k, _ = vectors.shape
    if k < 2 or n == 0:
        return None
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)
    gram = np.einsum("nkd,njd->nkj", unit, unit)
    off = (gram.sum(axis=(1, 2)) - np.trace(gram, axis1=1, axis2=2)) / (k * (k - 1))
    return float(off.mean())


def _vectors(
    path: Path, id_col: str, order: list[str], embedder: Embedder, k: int | None
) -> np.ndarray:
    frame = pl.read_parquet(path)
    counts = frame.group_by(id_col).agg(pl.len().alias("n"), pl.col("k").sort().alias("ks"))
    sizes = set(counts["n"].to_list())
    if len(sizes) != 1 or set(counts[id_col].to_list()) != set(order):
        raise UserError(
            f"{path}: profiles do not cover this dataset's {id_col[:-3]}s with the same K "
            "each; regenerate them with `profilerec proex-profiles` for this dataset"
        )
    total = sizes.pop()
    if any(ks != list(range(total)) for ks in counts["ks"].to_list()):
        raise UserError(f"{path}: k must run 0..K-1 for every {id_col[:-3]}")
    keep = total if k is None else k
    if not 1 <= keep <= total:
        raise UserError(f"k must be between 1 and the {total} profiles generated, got {k}")
    position = pl.DataFrame({id_col: order, "_pos": list(range(len(order)))})
    rows = frame.filter(pl.col("k") < keep).join(position, on=id_col).sort("_pos", "k")
    vecs = np.asarray(embedder.embed(rows["text"].fill_null("").to_list()), dtype=np.float32)
    return vecs.reshape(len(order), keep, -1)


def profile_vectors(
    ds: Dataset, out_dir: str | Path, embedder: Embedder, k: int | None = None
) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, Any]]:
    """Embedded profiles: users ``[n_users, k, d]`` in ``user_order(ds)``, items
    ``[n_items, k, d]`` in catalogue order (None when that entity was not profiled); ``k``
    keeps the first k (F1 first). The dict holds each side's mean pairwise cosine."""
    out_dir = Path(out_dir)
    user_path, item_path = out_dir / USER_FILE, out_dir / ITEM_FILE
    if not user_path.is_file() and not item_path.is_file():
        raise UserError(f"{out_dir}: no ProEx profiles here; run `profilerec proex-profiles`")
    users = (
        _vectors(user_path, "user_id", user_order(ds), embedder, k) if user_path.is_file() else None
    )
    items = (
        _vectors(item_path, "item_id", ds.item_ids, embedder, k) if item_path.is_file() else None
    )
    first = users if users is not None else items
    assert first is not None
    diversity = {
        "k": int(first.shape[1]),
        "embedder": embedder.model_id,
        "user_mean_pairwise_cosine": None if users is None else mean_pairwise_cosine(users),
        "item_mean_pairwise_cosine": None if items is None else mean_pairwise_cosine(items),
    }
    return users, items, diversity
