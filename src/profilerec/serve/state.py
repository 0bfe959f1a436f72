"""What the server loads once at start: the dataset, item vectors, user vectors per method.

Known users are the test split's users: each has one test example whose ``history``
(strictly before the target) is what every method sees, and whose target is the
"true next item" the page marks. Nothing after a history reaches a prompt or a score.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.evaluate.methods import history_for_embedding, mean_history, popularity
from profilerec.llm.base import GenerationConfig, Generator
from profilerec.llm.prompts import PromptTemplate, load_template
from profilerec.profile.prompts import HistoryFormat, build_prompts
from profilerec.profile.stage import load_profiles
from profilerec.retrieval import rank_by_scores

#: The user id given to ad-hoc histories; no real user has it, so no stored review joins in.
ADHOC_USER = "\x00adhoc"
#: The ID baselines served when ``profilerec.recsys.baselines`` provides them.
BASELINE_METHODS = ("itemknn",)
#: The ID model each ``hybrid:NAME`` method fuses with profile set NAME.
HYBRID_ID_MODEL = "itemknn"


@dataclass(frozen=True)
class Ranked:
    """One method's top-k for one history: catalogue indices, raw scores, a reason each."""

    items: list[int]
    scores: list[float]
    why: list[str]


@dataclass
class ProfileSet:
    name: str
    #: user_id -> the stored row (profile text and provenance columns).
    rows: dict[str, dict[str, Any]]
    #: ``[n_users, dim]`` normalised profile vectors, row order of ``ServeState.users``.
    vectors: torch.Tensor


@dataclass
class ServeState:
    ds: Dataset
    embedder: Embedder
    #: ``[n_items, dim]`` L2-normalised item vectors, catalogue order.
    item_vecs: torch.Tensor
    #: The test example of each served user (one row per user, ``users`` order).
    examples: pl.DataFrame
    users: list[str]
    user_row: dict[str, int]
    #: Catalogue indices each user had before the target (masked from rankings).
    seen: list[list[int]]
    targets: list[int]
    history_vecs: torch.Tensor
    mean_vecs: torch.Tensor
    popularity: torch.Tensor
    counts: np.ndarray
    profile_sets: dict[str, ProfileSet]
    baselines: dict[str, Any] = field(default_factory=dict)
    generator: Generator | None = None
    template: PromptTemplate | None = None
    history_format: HistoryFormat = field(default_factory=HistoryFormat)
    generation: GenerationConfig = field(
        default_factory=lambda: GenerationConfig(max_new_tokens=64)
    )
    #: Weight of the text side in ``hybrid:NAME`` (``evaluate --tune`` picks it on validation).
    hybrid_weight: float = 0.5

    @property
    def titles(self) -> list[str]:
        return self._titles

    def __post_init__(self) -> None:
        self._titles: list[str] = [
            t or i for t, i in zip(self.ds.items["title"], self.ds.item_ids, strict=True)
        ]

    # -- methods ---------------------------------------------------------------------------

    def methods(self) -> list[str]:
        """Method names for known users, in the order the page offers them."""
        names = [f"profile:{n}" for n in self.profile_sets]
        if HYBRID_ID_MODEL in self.baselines:
            names += [f"hybrid:{n}" for n in self.profile_sets]
        names += ["history_text", "mean_history", *self.baselines, "popularity"]
        return names

    def check_method(self, method: str) -> None:
        if method not in self.methods():
            raise UserError(f"unknown method {method!r}; choose one of {', '.join(self.methods())}")

    # -- known users -----------------------------------------------------------------------

    def recommend_user(self, user_id: str, method: str, k: int) -> Ranked:
        row = self.user_row[user_id]
        history = self._history_indices(self.examples["history"][row].to_list())
        if method.startswith("profile:"):
            vec = self.profile_sets[method.partition(":")[2]].vectors[row]
            return self._rank_vector(vec, self.seen[row], self.targets[row], k, "profile")
        if method.startswith("hybrid:"):
            vec = self.profile_sets[method.partition(":")[2]].vectors[row]
            return self._rank_hybrid(vec, history, self.seen[row], self.targets[row], k)
        if method == "history_text":
            return self._rank_vector(
                self.history_vecs[row], self.seen[row], self.targets[row], k, "history text"
            )
        if method == "mean_history":
            return self._rank_vector(
                self.mean_vecs[row], self.seen[row], self.targets[row], k, "mean of history items"
            )
        return self._rank_scores(method, history, self.seen[row], self.targets[row], k)

    # -- ad-hoc histories ------------------------------------------------------------------

    def adhoc_frame(self, history: Sequence[str]) -> pl.DataFrame:
        """An examples-shaped frame for a pasted history (catalogue ids or free-text titles).

        The stored renderers then treat it like any example: an id shows its catalogue
        title, any other string is shown as given (``Dataset.history_entries`` falls back
        to the string when no title joins).
        """
        return pl.DataFrame(
            {"example_id": [-1], "user_id": [ADHOC_USER], "history": [list(history)]},
            schema={"example_id": pl.Int64, "user_id": pl.String, "history": pl.List(pl.String)},
        )

    def profile_prompt(self, history: Sequence[str]) -> Any:
        if self.template is None:
            raise UserError("this server was started without a generator")
        return build_prompts(
            self.ds, self.adhoc_frame(history), self.template, self.history_format
        )[0]

    def generate_profile(self, history: Sequence[str]) -> str:
        """Blocking: runs the generator (call it from the generation queue, never the loop)."""
        if self.generator is None:
            raise UserError("this server was started without a generator")
        prompt = self.profile_prompt(history)
        return self.generator.generate([prompt], self.generation)[0].strip()

    def recommend_adhoc(
        self, history: Sequence[str], profile: str | None, method: str, k: int
    ) -> Ranked:
        index = self.ds.item_index
        seen = sorted({index[h] for h in history if h in index})
        target = self._free_slot(seen)
        if target is None:
            return Ranked([], [], [])
        if method == "profile":
            if not profile:
                raise UserError("method 'profile' needs a profile text")
            vec = self._embed_one(profile)
            return self._rank_vector(vec, seen, target, k, "profile")
        if method == "hybrid" and HYBRID_ID_MODEL in self.baselines:
            if not profile or not seen:
                raise UserError("method 'hybrid' needs a profile text and catalogue items")
            vec = self._embed_one(profile)
            return self._rank_hybrid(vec, seen_order(history, index), seen, target, k)
        if not history:
            raise UserError(f"method {method!r} needs a history")
        frame = self.adhoc_frame(history)
        if method == "history_text":
            vec = self._embed_one(history_for_embedding(self.ds, frame)[0])
            return self._rank_vector(vec, seen, target, k, "history text")
        if method == "mean_history":
            vec = torch.from_numpy(mean_history(self.ds, frame, self.item_vecs.numpy()).vectors[0])
            return self._rank_vector(vec, seen, target, k, "mean of history items")
        if method in self.baselines or method == "popularity":
            return self._rank_scores(method, seen_order(history, index), seen, target, k)
        hybrid = ["hybrid"] if HYBRID_ID_MODEL in self.baselines else []
        raise UserError(
            f"unknown method {method!r}; choose one of profile, {', '.join(hybrid)}"
            f"{', ' if hybrid else ''}history_text, mean_history, "
            f"{', '.join([*self.baselines, 'popularity'])}"
        )

    # -- scoring ---------------------------------------------------------------------------

    def _embed_one(self, text: str) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.embedder.embed([text]), dtype=np.float32)[0])

    def _history_indices(self, history: Sequence[str]) -> list[int]:
        return seen_order(history, self.ds.item_index)

    def _free_slot(self, seen: list[int]) -> int | None:
        """Any unmasked item, as the shared ranker's target: an ad-hoc history has no real one,
        and an unmasked item is ranked like every other, so the choice changes nothing."""
        taken = set(seen)
        return next((i for i in range(len(self.titles)) if i not in taken), None)

    def _rank_vector(
        self, vec: torch.Tensor, seen: list[int], target: int, k: int, what: str
    ) -> Ranked:
        scores = self.item_vecs @ F.normalize(vec.float(), dim=0)
        items, values = _topk(scores, seen, target, k)
        return Ranked(items, values, [f"cosine {v:.3f} to the {what}" for v in values])

    def _rank_hybrid(
        self, vec: torch.Tensor, history: list[int], seen: list[int], target: int, k: int
    ) -> Ranked:
        """z-scored fusion of item-kNN and the profile's cosine (``recsys.hybrid.fuse``)."""
        from profilerec.recsys.hybrid import fuse

        id_scores = torch.as_tensor(
            self.baselines[HYBRID_ID_MODEL].score([history])[0], dtype=torch.float32
        )
        cosine = self.item_vecs @ F.normalize(vec.float(), dim=0)
        fused = fuse(id_scores.reshape(1, -1), cosine.reshape(1, -1), self.hybrid_weight)[0]
        items, values = _topk(fused, seen, target, k)
        w = self.hybrid_weight
        why = [
            f"fused {v:.3f}: item-kNN {float(id_scores[i]):.3f} x {1 - w:g}, "
            f"profile cosine {float(cosine[i]):.3f} x {w:g} (z-scored)"
            for i, v in zip(items, values, strict=True)
        ]
        return Ranked(items, values, why)

    def _rank_scores(
        self, method: str, history: list[int], seen: list[int], target: int, k: int
    ) -> Ranked:
        if method == "popularity":
            items, values = _topk(self.popularity, seen, target, k)
            return Ranked(
                items, values, [f"{int(self.counts[i])} training interactions" for i in items]
            )
        model = self.baselines[method]
        scores = model.score([history])[0]
        items, values = _topk(scores, seen, target, k)
        why = [f"score {v:.3f}" for v in values]
        if hasattr(model, "explain") and history:
            because = model.explain(history, items)
            why = [
                f"because of {self.titles[b]}" if b is not None and b >= 0 else w
                for b, w in zip(because, why, strict=True)
            ]
        return Ranked(items, values, why)


def seen_order(history: Sequence[str], index: dict[str, int]) -> list[int]:
    """Catalogue indices of the catalogue items of a history, oldest first."""
    return [index[h] for h in history if h in index]


def _topk(
    scores: torch.Tensor, seen: list[int], target: int, k: int
) -> tuple[list[int], list[float]]:
    """Top-k by the shared ranker: the history masked, the target kept rankable."""
    row = torch.as_tensor(scores, dtype=torch.float32).reshape(1, -1)
    result = rank_by_scores(lambda s, e: row, 1, [target], [seen], k=min(k, row.shape[1]))
    items = [int(i) for i in result.topk[0] if i >= 0]
    return items, [float(row[0, i]) for i in items]


def _normalised(vectors: np.ndarray) -> torch.Tensor:
    return F.normalize(torch.from_numpy(np.asarray(vectors, dtype=np.float32)), dim=1)


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
) -> ServeState:
    """Loads everything once; every later request only reads it."""
    if not 0.0 <= hybrid_weight <= 1.0:
        raise UserError(f"--hybrid-weight must be in [0, 1], not {hybrid_weight}")
    ds = Dataset.load(dataset)
    examples = served_examples(ds)
    if examples.height == 0:
        raise UserError(f"{dataset}: no test examples; prepare it with a test split")
    users = list(examples["user_id"])
    index = ds.item_index
    progress("embedding items")
    item_vecs = _normalised(embedder.embed(ds.item_texts()))
    progress("embedding histories")
    history_vecs = torch.from_numpy(
        np.asarray(embedder.embed(history_for_embedding(ds, examples)), dtype=np.float32)
    )
    mean_vecs = torch.from_numpy(mean_history(ds, examples, item_vecs.numpy()).vectors)
    pop = popularity(ds, examples.head(1)).scores(0, 1)[0].clone()  # type: ignore[misc]
    from profilerec.recsys.popularity import popularity_scores

    sets: dict[str, ProfileSet] = {}
    for name, path in (profiles or {}).items():
        progress(f"embedding profile set {name}")
        sets[name] = _load_profile_set(name, path, users, examples)
        sets[name].vectors = _normalised(
            embedder.embed([sets[name].rows[u]["profile"] for u in users])
        )
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
