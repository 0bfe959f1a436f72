"""What the server loads once at start: the dataset, item vectors, user vectors per method.

Known users are the test split's users: each has one test example whose ``history``
(strictly before the target) is what every method sees, and whose target is the
"true next item" the page marks. Nothing after a history reaches a prompt or a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.evaluate.methods import history_for_embedding, mean_history
from profilerec.llm.base import GenerationConfig, Generator
from profilerec.llm.prompts import PromptTemplate
from profilerec.profile.prompts import HistoryFormat, build_prompts
from profilerec.retrieval import rank_by_scores

#: The user id given to ad-hoc histories; no real user has it, so no stored review joins in.
ADHOC_USER = "\x00adhoc"
#: The ID baselines served when ``profilerec.recsys.baselines`` provides them.
BASELINE_METHODS = ("itemknn",)
#: (method, row of a stored user): rank from ``ServeState.ranked`` when it holds the method.
Stored = tuple[str, int] | None
#: Ad-hoc profiles kept per exact pasted history (oldest dropped first).
PROFILE_CACHE_SIZE = 256
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
    #: Per vector method of the stored users, each user's top items ranked at load by
    #: ``evaluate``'s own call (``rank_by_embeddings`` over every user at once, on the
    #: embedder's raw vectors, k = evaluate's largest cut-off), so a served top-k is
    #: evaluate's to the last bit, ties included; a larger k is ranked per request.
    ranked: dict[str, np.ndarray] = field(default_factory=dict)
    #: Per stored user, every earlier item (catalogue indices, oldest first): what
    #: ``evaluate`` scores its ID models on (``recsys.sequences.sasrec_histories``).
    id_histories: list[list[int]] = field(default_factory=list)
    #: The hybrid weight ``ranked`` holds the hybrids at (a changed weight ranks per request).
    ranked_weight: float | None = None

    @property
    def titles(self) -> list[str]:
        return self._titles

    def __post_init__(self) -> None:
        self._profile_cache: dict[tuple[str, ...], str] = {}
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
        # ID models see the whole past, as in evaluate (``history`` is cut at 20 items)
        history = (
            self.id_histories[row]
            if self.id_histories
            else self._history_indices(self.examples["history"][row].to_list())
        )
        if method.startswith("profile:"):
            vec = self.profile_sets[method.partition(":")[2]].vectors[row]
            return self._ranked(method, row, vec, k, "profile")
        if method.startswith("hybrid:"):
            vec = self.profile_sets[method.partition(":")[2]].vectors[row]
            return self._rank_hybrid(
                vec, history, self.seen[row], self.targets[row], k, (method, row)
            )
        if method == "history_text":
            return self._ranked(method, row, self.history_vecs[row], k, "history text")
        if method == "mean_history":
            return self._ranked(method, row, self.mean_vecs[row], k, "mean of history items")
        return self._rank_scores(
            method, history, self.seen[row], self.targets[row], k, (method, row)
        )

    def _pick(
        self, scores: torch.Tensor, seen: list[int], target: int, k: int, stored: Stored
    ) -> tuple[list[int], list[float]]:
        """A stored user's load-time ranking (``ranked``) when there is one, else ``_topk``."""
        top = self.ranked.get(stored[0]) if stored else None
        if stored is None or top is None or k > top.shape[1]:
            return _topk(scores, seen, target, k)
        if stored[0].startswith("hybrid:") and self.ranked_weight != self.hybrid_weight:
            return _topk(scores, seen, target, k)
        items = [int(i) for i in top[stored[1]][:k] if i >= 0]
        row = torch.as_tensor(scores).reshape(-1)
        return items, [float(row[i]) for i in items]

    def _ranked(self, method: str, row: int, vec: torch.Tensor, k: int, what: str) -> Ranked:
        """The load-time ranking of a stored user, with each item's cosine as its reason."""
        if method not in self.ranked or k > self.ranked[method].shape[1]:
            return self._rank_vector(vec, self.seen[row], self.targets[row], k, what)
        items = [int(i) for i in self.ranked[method][row][:k] if i >= 0]
        cosine = self.item_vecs @ F.normalize(vec.float(), dim=0)
        values = [float(cosine[i]) for i in items]
        return Ranked(items, values, [f"cosine {v:.3f} to the {what}" for v in values])

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
        """Blocking: runs the generator (call it from the generation queue, never the loop).

        Kept up to its last full sentence, as ``profile`` stores it, and cached by history
        (``cached_profile``): the same pasted history is written once.
        """
        if self.generator is None:
            raise UserError("this server was started without a generator")
        from profilerec.profile.quality import trim_to_sentence

        prompt = self.profile_prompt(history)
        text = trim_to_sentence(self.generator.generate([prompt], self.generation)[0].strip())
        cache = self._profile_cache
        cache[tuple(history)] = text
        while len(cache) > PROFILE_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        return text

    def cached_profile(self, history: Sequence[str]) -> str | None:
        """The profile already written for this exact history (oldest first), if any."""
        return self._profile_cache.get(tuple(history))

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
        self,
        vec: torch.Tensor,
        history: list[int],
        seen: list[int],
        target: int,
        k: int,
        stored: Stored = None,
    ) -> Ranked:
        """z-scored fusion of item-kNN and the profile's cosine (``recsys.hybrid.fuse``)."""
        from profilerec.recsys.hybrid import fuse, zscore

        id_scores = torch.as_tensor(
            self.baselines[HYBRID_ID_MODEL].score([history])[0], dtype=torch.float32
        ).reshape(1, -1)
        cosine = (self.item_vecs @ F.normalize(vec.float(), dim=0)).reshape(1, -1)
        fused = fuse(id_scores, cosine, self.hybrid_weight)[0]
        items, values = self._pick(fused, seen, target, k, stored)
        w = self.hybrid_weight
        if w in (0.0, 1.0):  # fuse returns one side's raw scores
            what = "item-kNN score" if w == 0.0 else "profile cosine"
            return Ranked(items, values, [f"{what} {v:.3f} (hybrid weight {w:g})" for v in values])
        z_id, z_text = zscore(id_scores)[0], zscore(cosine)[0]
        # the parts add up to the total: (1 - w) z(item-kNN) + w z(cosine), both per catalogue
        why = [
            f"fused {v:.3f} = {1 - w:g} x {float(z_id[i]):.3f} (item-kNN {float(id_scores[0, i]):.3f}, "
            f"z-scored) + {w:g} x {float(z_text[i]):.3f} (profile cosine {float(cosine[0, i]):.3f}, "
            "z-scored)"
            for i, v in zip(items, values, strict=True)
        ]
        return Ranked(items, values, why)

    def _rank_scores(
        self,
        method: str,
        history: list[int],
        seen: list[int],
        target: int,
        k: int,
        stored: Stored = None,
    ) -> Ranked:
        if method == "popularity":
            items, values = _topk(self.popularity, seen, target, k)
            return Ranked(
                items, values, [f"{int(self.counts[i])} training interactions" for i in items]
            )
        model = self.baselines[method]
        scores = model.score([history])[0]
        items, values = self._pick(scores, seen, target, k, stored)
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


def normalised(vectors: np.ndarray) -> torch.Tensor:
    return F.normalize(torch.from_numpy(np.asarray(vectors, dtype=np.float32)), dim=1)


# Loading moved to serve/load.py; these names stay importable from here.
from profilerec.serve.load import (  # noqa: E402
    build_state,
    parse_profile_args,
    served_examples,
)

__all__ = ["Ranked", "ServeState", "build_state", "parse_profile_args", "served_examples"]
