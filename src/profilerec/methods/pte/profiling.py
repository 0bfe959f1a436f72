"""PtE's bidirectional profiling: user and item profiles written in a closed loop.

Round 0 profiles each user from its training history plus a note on what its
co-interaction neighbours chose, then induces each item's profile from the profiles of
up to M of its training users plus its title. Rounds 1..R re-profile users from the
current profiles of their history items, then items from the updated user profiles. The
final round samples C candidates per entity (instruction variants x temperature with a
seed per candidate; candidate 0 is the plain greedy profile, the no-GRPO ablation) and
keeps the best by a group-relative collaborative reward (``reward.py``, ``selection.py``);
final item candidates are induced from the *selected* user profiles.

Only ``Dataset.train_interactions()`` is read (``neighbours.py``), so no validation or
test interaction reaches a prompt. Items no user had in training are not profiled: their
vector is the embedding of their catalogue text; users without training items get a zero
vector.

Every (round, kind, candidate) is one job of the generation engine
(``profilerec.engines.generation``, as the ``profile`` stage): each batch writes its own
part file ``part-rRR-KIND-cCC-NNNNNN.parquet`` of ``cache_key -> profile`` rows (the names
and format of earlier runs), keys hashing the entity, prompt, model and decoding settings.
A re-run loads the parts, skips finished batches, and recomputes later prompts from the
stored texts, so a killed and resumed run equals an uninterrupted one; with a ``RayRunner``
as the generator (``--engine ray``) each round's batches run on a Ray actor pool.

The options are ``PtEProfilesConfig`` (``profiling_config.py``), the prompts ``prompts.py``;
this module is the round loop, the generation jobs, the selection and reading the result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from profilerec.atomic import write_file_atomic, write_text_atomic
from profilerec.data.dataset import Dataset
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
from profilerec.methods.pte.profiling_config import DEFAULT_VARIANTS, PtEProfilesConfig
from profilerec.methods.pte.prompts import Prompts, TrainingSide
from profilerec.methods.pte.reward import CollaborativeReward, PtERewardConfig
from profilerec.methods.pte.selection import group_relative
from profilerec.progress import Advancer, progress_bar
from profilerec.recsys.graph import user_order

USERS_FILE = "users.parquet"
ITEMS_FILE = "items.parquet"
CONFIG_FILE = "pte_config.json"
Which = Literal["selected", "first", "round0"]

__all__ = [  # the public names, the config's included (it lives in profiling_config.py)
    "CONFIG_FILE",
    "DEFAULT_VARIANTS",
    "ITEMS_FILE",
    "USERS_FILE",
    "PtEProfilesConfig",
    "Which",
    "run_pte_profiles",
    "selected_vectors",
]


def _entity_key(
    kind: str,
    entity: str,
    round_: int,
    cand: int,
    prompt: Messages,
    model_id: str,
    gen: GenerationConfig,
) -> str:
    """``stage.cache_key`` plus the entity: identical prompts of two users never share a text."""
    payload = json.dumps([kind, entity, round_, cand, cache_key(prompt, model_id, gen)])
    return hashlib.sha256(payload.encode()).hexdigest()


class _Runner:
    """One engine job per (round, kind, candidate), all sharing the folder's part files."""

    def __init__(
        self,
        generator: Generator | BatchRunner,
        parts_dir: Path,
        config: PtEProfilesConfig,
        bar: Advancer,
        stop_after_batches: int | None,
    ) -> None:
        self.runner, self.parts_dir, self.cfg = as_runner(generator), parts_dir, config
        self.bar, self.stop_after = bar, stop_after_batches
        self.done = load_parts(parts_dir)
        self.generated = 0

    def decoding(self, cand: int) -> GenerationConfig:
        greedy = cand == 0 and self.cfg.greedy_first
        return GenerationConfig(
            max_new_tokens=self.cfg.max_new_tokens,
            temperature=0.0 if greedy else self.cfg.temperature,
            top_p=1.0 if greedy else self.cfg.top_p,
            seed=self.cfg.seed + cand,
        )

    def _generated(self, rows: int) -> None:
        self.generated += 1
        self.bar.advance(rows)

    def run(
        self, round_: int, kind: str, cand: int, entities: list[str], prompts: list[Messages]
    ) -> list[str]:
        gen, model_id = self.decoding(cand), self.runner.model_id
        keys = [
            _entity_key(kind, e, round_, cand, p, model_id, gen)
            for e, p in zip(entities, prompts, strict=True)
        ]
        todo = plan_batches(keys, self.cfg.batch_size, self.done)
        self.bar.skip(len(keys) - sum(len(rows) for rows in todo))  # resumed, not in the rate
        generate_missing(
            list(zip(keys, prompts, strict=True)),
            self.runner,
            gen,
            self.parts_dir,
            batch_size=self.cfg.batch_size,
            prefix=f"part-r{round_:02d}-{kind}-c{cand:02d}",
            done=self.done,
            on_batch=self._generated,
            stop_after_batches=None
            if self.stop_after is None
            else max(self.stop_after - self.generated, 0),
        )
        return [self.done[k] for k in keys]


def _unit_rows(vecs: np.ndarray) -> np.ndarray:
    vecs = np.asarray(vecs, dtype=np.float32)
    return vecs / np.maximum(np.linalg.norm(vecs, axis=-1, keepdims=True), 1e-12)


def _select(
    cands: list[list[str]],
    embedder: Embedder,
    targets: np.ndarray,
    positives: list[list[int]],
    config: PtERewardConfig,
    neighbours: list[list[int]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rewards and advantages ``[n, C]``, selected ``[n]``, candidate vectors ``[C, n, d]``.

    Users (``neighbours`` given) also score agreement with their neighbours' consensus
    profiles (the normalised mean of each neighbour's candidates), which does not depend
    on which candidate wins, so every user is scored against the same references.
    """
    n_cand, n = len(cands), len(cands[0])
    flat = [text for texts in cands for text in texts]
    vecs = _unit_rows(embedder.embed(flat)).reshape(n_cand, n, -1)
    peers = _unit_rows(vecs.mean(0)) if neighbours is not None else None  # consensus profiles
    reward = CollaborativeReward(
        None, targets, peers=peers, generic=vecs.reshape(n_cand * n, -1).mean(0), config=config
    )
    scores = reward.score_vectors(
        vecs.reshape(n_cand * n, -1),
        positives * n_cand,
        None if neighbours is None else neighbours * n_cand,
        list(range(n)) * n_cand,
    ).reshape(n_cand, n)
    scores = np.where(np.array([[bool(t) for t in texts] for texts in cands]), scores, np.nan).T
    choice = group_relative(scores)
    return scores, choice.advantages, choice.selected, vecs


def _rows(
    id_col: str,
    entities: list[str],
    round_: int,
    cands: list[list[str]],
    scored: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pl.DataFrame:
    """One row per (entity, candidate); ``scored`` = (rewards, advantages, selected)."""
    n, n_cand = len(entities), len(cands)
    if scored is None:  # a round before the last: its single profile is carried forward
        nan = np.full((n, n_cand), np.nan)
        scored = (nan, nan, np.zeros(n, dtype=np.int64))
    rewards, advantages, selected = scored
    frame = pl.DataFrame(
        {
            id_col: np.repeat(entities, n_cand).tolist(),
            "round": [round_] * (n * n_cand),
            "candidate": list(range(n_cand)) * n,
            "text": [cands[c][j] for j in range(n) for c in range(n_cand)],
            "reward": rewards.reshape(-1),
            "advantage": advantages.reshape(-1),
            "selected": (selected[:, None] == np.arange(n_cand)[None, :]).reshape(-1),
        },
        schema={
            id_col: pl.String,
            "round": pl.Int32,
            "candidate": pl.Int32,
            "text": pl.String,
            "reward": pl.Float64,
            "advantage": pl.Float64,
            "selected": pl.Boolean,
        },
    )
    return frame.with_columns(pl.col("reward", "advantage").fill_nan(None))


def run_pte_profiles(
    ds: Dataset,
    generator: Generator | BatchRunner,
    embedder: Embedder,
    out_dir: str | Path,
    config: PtEProfilesConfig,
    *,
    progress: bool = True,
    stop_after_batches: int | None = None,
) -> Path:
    """Write ``out_dir/users.parquet`` and ``items.parquet``; returns ``out_dir``.

    Rows: (``user_id`` | ``item_id``, round, candidate, text, reward, advantage, selected).
    Rounds before the last hold one row per entity (reward and advantage null, selected
    true: the profile carried forward). ``generator`` is a Generator or any ``BatchRunner``
    (e.g. ``RayRunner``); ``stop_after_batches`` simulates a kill (tests).
    """
    out_dir = Path(out_dir)
    parts_dir = out_dir / PARTS_DIR
    parts_dir.mkdir(parents=True, exist_ok=True)
    train = TrainingSide.build(ds, config.neighbours)
    if not train.users:
        raise UserError("the dataset has no training interactions to profile from")
    prompts = Prompts(train, config)
    model_id = as_runner(generator).model_id
    write_text_atomic(
        out_dir / CONFIG_FILE,
        json.dumps(
            {**dataclasses.asdict(config), "model_id": model_id, "embedder_id": embedder.model_id},
            indent=2,
        ),
    )
    u_index = {u: j for j, u in enumerate(train.users)}
    i_index = {i: j for j, i in enumerate(train.items)}
    user_pos = [[i_index[i] for i, _ in train.history[u]] for u in train.users]
    user_nbrs = [[u_index[v] for v in train.neighbours.get(u, [])] for u in train.users]
    item_pos = [[u_index[u] for u in train.audience[i]] for i in train.items]
    n_rounds = config.rounds + 1
    total = (len(train.users) + len(train.items)) * (config.rounds + config.candidates)
    user_frames: list[pl.DataFrame] = []
    item_frames: list[pl.DataFrame] = []
    user_prev: dict[str, str] = {}
    item_prev: dict[str, str] = {}
    # a rich bar on a terminal; in a log, a line every few seconds (done/total, rate, ETA)
    with progress_bar("PtE profiling", total, enabled=progress) as bar:
        runner = _Runner(generator, parts_dir, config, bar, stop_after_batches)
        for r in range(n_rounds):
            final = r == n_rounds - 1
            n_cand = config.candidates if final else 1
            variants = [config.variants[c % len(config.variants)] for c in range(n_cand)]

            users = [
                runner.run(
                    r, "user", c, train.users, prompts.users(train.users, v, user_prev, item_prev)
                )
                for c, v in enumerate(variants)
            ]
            if final:
                item_text = [item_prev[i] for i in train.items] if r else _catalogue(ds, train)
                targets = _unit_rows(embedder.embed(item_text))
                u_scores, u_adv, u_sel, u_vecs = _select(
                    users, embedder, targets, user_pos, config.reward, user_nbrs
                )
                user_frames.append(
                    _rows("user_id", train.users, r, users, (u_scores, u_adv, u_sel))
                )
            else:
                u_sel = np.zeros(len(train.users), dtype=np.int64)
                user_frames.append(_rows("user_id", train.users, r, users))
            user_prev = {u: users[u_sel[j]][j] for j, u in enumerate(train.users)}

            items = [
                runner.run(
                    r,
                    "item",
                    c,
                    train.items,
                    [prompts.item(i, v, user_prev, item_prev.get(i)) for i in train.items],
                )
                for c, v in enumerate(variants)
            ]
            if final:
                chosen = u_vecs[u_sel, np.arange(len(train.users))]  # the selected user profiles
                i_scores, i_adv, i_sel, _ = _select(
                    items, embedder, chosen, item_pos, config.reward
                )
                item_frames.append(
                    _rows("item_id", train.items, r, items, (i_scores, i_adv, i_sel))
                )
            else:
                i_sel = np.zeros(len(train.items), dtype=np.int64)
                item_frames.append(_rows("item_id", train.items, r, items))
            item_prev = {i: items[i_sel[j]][j] for j, i in enumerate(train.items)}

    for name, frames in ((USERS_FILE, user_frames), (ITEMS_FILE, item_frames)):
        write_file_atomic(out_dir / name, pl.concat(frames).write_parquet)
    return out_dir


def _catalogue(ds: Dataset, train: TrainingSide) -> list[str]:
    """Catalogue text of the profiled items (the user reward's targets before item profiles)."""
    texts = dict(zip(ds.item_ids, ds.item_texts(), strict=True))
    return [texts[i] for i in train.items]


def _pick(frame: pl.DataFrame, which: Which) -> pl.DataFrame:
    last = frame["round"].max()
    if which == "selected":
        return frame.filter((pl.col("round") == last) & pl.col("selected"))
    if which == "first":
        return frame.filter((pl.col("round") == last) & (pl.col("candidate") == 0))
    if which == "round0":
        return frame.filter((pl.col("round") == 0) & (pl.col("candidate") == 0))
    raise UserError(f"unknown profile choice {which!r}; use selected, first or round0")


def selected_vectors(
    ds: Dataset, out_dir: str | Path, embedder: Embedder, which: Which = "selected"
) -> tuple[np.ndarray, np.ndarray]:
    """(user vectors ``[n_users, d]`` in ``user_order(ds)``, item vectors ``[n_items, d]``
    in catalogue order) from the profiles in ``out_dir``.

    ``which``: ``selected`` (GRPO's choice at the final round), ``first`` (candidate 0 of the
    final round: the no-GRPO ablation) or ``round0`` (the single-pass ablation). Users
    without training items get zeros; unprofiled items their catalogue text's embedding.
    """
    out_dir = Path(out_dir)
    if not (out_dir / USERS_FILE).is_file() or not (out_dir / ITEMS_FILE).is_file():
        raise UserError(f"{out_dir}: no PtE profiles here; run the PtE profiling first")
    users = _pick(pl.read_parquet(out_dir / USERS_FILE), which)
    items = _pick(pl.read_parquet(out_dir / ITEMS_FILE), which)
    u_index = {u: j for j, u in enumerate(user_order(ds))}
    unknown = [u for u in users["user_id"] if u not in u_index]
    unknown += [i for i in items["item_id"] if i not in ds.item_index]
    if unknown:
        raise UserError(f"{out_dir}: profiles name {unknown[0]!r}, unknown to this dataset")

    item_vecs = np.zeros((len(ds.item_ids), embedder.dim), dtype=np.float32)
    rows = [ds.item_index[i] for i in items["item_id"]]
    item_vecs[rows] = embedder.embed(items["text"].to_list())
    cold = sorted(set(range(len(ds.item_ids))) - set(rows))
    if cold:
        texts = ds.item_texts()
        item_vecs[cold] = embedder.embed([texts[j] for j in cold])
    user_vecs = np.zeros((len(u_index), embedder.dim), dtype=np.float32)
    user_vecs[[u_index[u] for u in users["user_id"]]] = embedder.embed(users["text"].to_list())
    return user_vecs, item_vecs
