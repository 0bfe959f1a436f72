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
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from profilerec.atomic import write_file_atomic, write_text_atomic
from profilerec.data.dataset import Dataset
from profilerec.data.text import HistoryEntry, render_history
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
from profilerec.llm.prompts import PromptTemplate, load_template
from profilerec.methods.pte.neighbours import item_users, training_histories, user_neighbours
from profilerec.methods.pte.reward import CollaborativeReward, PtERewardConfig
from profilerec.methods.pte.selection import group_relative
from profilerec.recsys.graph import user_order

USERS_FILE = "users.parquet"
ITEMS_FILE = "items.parquet"
CONFIG_FILE = "pte_config.json"
Which = Literal["selected", "first", "round0"]

#: Instruction perturbations; candidate c appends ``variants[c % len(variants)]``.
DEFAULT_VARIANTS = (
    "",
    "Focus on the strongest preference.",
    "Name concrete kinds of items.",
    "Say what is distinctive, not generic.",
    "Be brief and specific.",
    "Mention dislikes or limits too.",
)


@dataclass
class PtEProfilesConfig:
    """Bidirectional profiling, candidates and selection (TRL style: every field with help)."""

    rounds: int = field(
        default=1, metadata={"help": "Refinement rounds R after round 0 (0 = single pass)."}
    )
    candidates: int = field(
        default=4,
        metadata={"help": "Candidate profiles C per user and per item at the final round."},
    )
    temperature: float = field(
        default=0.8, metadata={"help": "Sampling temperature of the candidates after the first."}
    )
    top_p: float = field(default=0.95, metadata={"help": "Nucleus mass of the sampled candidates."})
    greedy_first: bool = field(
        default=True, metadata={"help": "Candidate 0 (and every earlier round) decodes greedily."}
    )
    neighbours: int = field(
        default=5,
        metadata={"help": "Collaborative neighbours k per user (Jaccard on training items)."},
    )
    neighbour_items: int = field(
        default=3, metadata={"help": "Neighbours' items named in a round-0 user prompt."}
    )
    users_per_item: int = field(
        default=5, metadata={"help": "Users M (most recent first) whose profiles induce an item's."}
    )
    history_items: int = field(
        default=10, metadata={"help": "Most recent training items listed in a round-0 user prompt."}
    )
    refine_items: int = field(
        default=4,
        metadata={"help": "Most recent training items quoted (with profiles) in refinement."},
    )
    item_chars: int = field(
        default=60, metadata={"help": "Characters of each item title in a prompt."}
    )
    profile_chars: int = field(
        default=160, metadata={"help": "Characters of each profile quoted in a prompt."}
    )
    max_new_tokens: int = field(
        default=48,
        metadata={"help": "Tokens per profile (CPU prefill dominates, so keep it short)."},
    )
    batch_size: int = field(
        default=16, metadata={"help": "Prompts per generation call and per resumable part file."}
    )
    seed: int = field(default=0, metadata={"help": "Candidate c samples with seed + c."})
    variants: tuple[str, ...] = field(
        default=DEFAULT_VARIANTS, metadata={"help": "Instruction variants (prompt perturbation)."}
    )
    user_template: str = field(
        default="pte_user", metadata={"help": "Round-0 user template (name or file)."}
    )
    item_template: str = field(
        default="pte_item", metadata={"help": "Round-0 item template (name or file)."}
    )
    user_refine_template: str = field(
        default="pte_user_refine", metadata={"help": "User refinement template."}
    )
    item_refine_template: str = field(
        default="pte_item_refine", metadata={"help": "Item refinement template."}
    )
    reward: PtERewardConfig = field(
        default_factory=PtERewardConfig, metadata={"help": "Selection reward weights."}
    )

    def __post_init__(self) -> None:
        if isinstance(self.reward, dict):
            self.reward = PtERewardConfig(**self.reward)
        self.variants = tuple(self.variants)
        if self.rounds < 0 or self.neighbours < 0 or self.neighbour_items < 0:
            raise UserError("rounds, neighbours and neighbour_items must be >= 0")
        positive = ("candidates", "users_per_item", "history_items", "refine_items")
        positive += ("item_chars", "profile_chars", "max_new_tokens", "batch_size")
        bad = [name for name in positive if getattr(self, name) < 1]
        if bad:
            raise UserError(f"{', '.join(bad)} must be at least 1")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise UserError("temperature must be >= 0 and top_p in (0, 1]")
        if not self.variants:
            raise UserError("give at least one instruction variant (it may be empty)")


@dataclass(frozen=True)
class _Train:
    """The training side of the dataset, as the prompts need it."""

    users: list[str]  # users with training items, in user_order
    items: list[str]  # items with training users, in catalogue order
    history: dict[str, list[tuple[str, float | None]]]
    audience: dict[str, list[str]]  # item -> training users, most recent first
    neighbours: dict[str, list[str]]
    titles: dict[str, str]
    #: Each user's validation/test target items. Neighbours' training items are legitimate
    #: collaborative signal, but one of them can be this user's own held-out target; the
    #: rule "no target reaches a prompt" wins, so they are left out of that user's notes.
    held_out: dict[str, set[str]]

    @classmethod
    def build(cls, ds: Dataset, k: int) -> _Train:
        history = training_histories(ds)
        audience = {i: us for i, us in item_users(ds).items() if us}
        titles = {i: t or i for i, t in ds.items.select("item_id", "title").iter_rows()}
        return cls(
            users=[u for u in user_order(ds) if u in history],
            items=[i for i in ds.item_ids if i in audience],
            history=history,
            audience=audience,
            neighbours=user_neighbours(ds, k),
            titles=titles,
            held_out=_held_out(ds),
        )


def _held_out(ds: Dataset) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for split in ("valid", "test"):
        for user, item in ds.split(split).select("user_id", "item_id").iter_rows():
            held.setdefault(user, set()).add(item)
    return held


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: max(n - 3, 0)].rsplit(" ", 1)[0] + "..."


def _render(template: PromptTemplate, **values: str) -> Messages:
    return [{**m, "content": m["content"].strip()} for m in template.render(**values)]


class _Prompts:
    """Builds the four kinds of prompt from training data and current profiles only."""

    def __init__(self, train: _Train, config: PtEProfilesConfig) -> None:
        self.t, self.cfg = train, config
        self.templates = {
            name: load_template(getattr(config, f"{name}_template"))
            for name in ("user", "item", "user_refine", "item_refine")
        }

    def _title(self, item: str) -> str:
        return _clip(self.t.titles[item], self.cfg.item_chars)

    def _profile(self, text: str) -> str:
        return _clip(text, self.cfg.profile_chars) or "(empty)"

    def user(self, user: str, variant: str) -> Messages:
        cfg, hist = self.cfg, self.t.history[user]
        entries = [HistoryEntry(title=self.t.titles[i], rating=r) for i, r in hist]
        shown = render_history(
            entries, max_items=cfg.history_items, item_chars=cfg.item_chars, with_reviews=False
        )
        own = {i for i, _ in hist} | self.t.held_out.get(user, set())
        votes: dict[str, list[int]] = {}  # item -> [-neighbours naming it, first neighbour rank]
        for rank, other in enumerate(self.t.neighbours.get(user, [])):
            for item in {i for i, _ in self.t.history.get(other, [])} - own:
                vote = votes.setdefault(item, [0, rank])
                vote[0] -= 1
        best = sorted(votes, key=lambda i: (*votes[i], i))[: cfg.neighbour_items]
        notes = "; ".join(self._title(i) for i in best) or "none"
        return _render(self.templates["user"], history=shown, neighbours=notes, variant=variant)

    def users(
        self, users: list[str], variant: str, previous: dict[str, str], items: dict[str, str]
    ) -> list[Messages]:
        """Round-0 prompts without previous profiles, refinement prompts with them."""
        if not previous:
            return [self.user(u, variant) for u in users]
        return [self.user_refine(u, variant, previous[u], items) for u in users]

    def user_refine(
        self, user: str, variant: str, profile: str, item_profiles: dict[str, str]
    ) -> Messages:
        recent = self.t.history[user][-self.cfg.refine_items :]
        lines = [
            f"{k}. {self._title(i)}: {self._profile(item_profiles[i])}"
            for k, (i, _) in enumerate(recent, start=1)
        ]
        return _render(
            self.templates["user_refine"],
            profile=self._profile(profile),
            items="\n".join(lines),
            variant=variant,
        )

    def item(
        self, item: str, variant: str, user_profiles: dict[str, str], profile: str | None
    ) -> Messages:
        audience = self.t.audience[item][: self.cfg.users_per_item]
        users = "\n".join(f"- {self._profile(user_profiles[u])}" for u in audience)
        if profile is None:
            return _render(
                self.templates["item"], title=self._title(item), users=users, variant=variant
            )
        return _render(
            self.templates["item_refine"],
            title=self._title(item),
            profile=self._profile(profile),
            users=users,
            variant=variant,
        )


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
        advance: Callable[[int], None],
        stop_after_batches: int | None,
    ) -> None:
        self.runner, self.parts_dir, self.cfg = as_runner(generator), parts_dir, config
        self.advance, self.stop_after = advance, stop_after_batches
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
        self.advance(rows)

    def run(
        self, round_: int, kind: str, cand: int, entities: list[str], prompts: list[Messages]
    ) -> list[str]:
        gen, model_id = self.decoding(cand), self.runner.model_id
        keys = [
            _entity_key(kind, e, round_, cand, p, model_id, gen)
            for e, p in zip(entities, prompts, strict=True)
        ]
        todo = plan_batches(keys, self.cfg.batch_size, self.done)
        self.advance(len(keys) - sum(len(rows) for rows in todo))
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
    train = _Train.build(ds, config.neighbours)
    if not train.users:
        raise UserError("the dataset has no training interactions to profile from")
    prompts = _Prompts(train, config)
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
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    user_frames: list[pl.DataFrame] = []
    item_frames: list[pl.DataFrame] = []
    user_prev: dict[str, str] = {}
    item_prev: dict[str, str] = {}
    with Progress(*columns, TimeRemainingColumn(), disable=not progress) as bar:
        task = bar.add_task("PtE profiling", total=total)
        runner = _Runner(
            generator, parts_dir, config, lambda n: bar.advance(task, n), stop_after_batches
        )
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


def _catalogue(ds: Dataset, train: _Train) -> list[str]:
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
