"""What the server holds once loaded: the dataset, vectors, fitted models, served methods.

Known users are the test split's users: each has one test example whose ``history``
(strictly before the target) is what every method sees, and whose target is the
"true next item" the page marks. Nothing after a history reaches a prompt or a score.

Only data lives here (no loading, no ranking), so ``load``, ``ranked`` and ``recommend``
all import it and none of them imports another in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from profilerec.errors import UserError

if TYPE_CHECKING:  # types only: the server imports this before binding, torch after
    import numpy as np
    import polars as pl
    import torch

    from profilerec.data.dataset import Dataset
    from profilerec.embed.base import Embedder
    from profilerec.evaluate.methods import MethodOutput
    from profilerec.evaluate.registry import Method
    from profilerec.llm.base import Generator
    from profilerec.profile.profiler import Profiler

#: The user id given to ad-hoc histories; no real user has it, so no stored review joins in.
ADHOC_USER = "\x00adhoc"
#: Ad-hoc profiles kept per exact pasted history (oldest dropped first).
PROFILE_CACHE_SIZE = 256
#: The profile-set name a pasted profile takes in the registry (``profile``,
#: ``history+profile``, ``hybrid+profile`` for ad-hoc histories).
PASTED = "profile"


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
    #: The served examples' rows (``example_id``, ``profile``), what the registry reads.
    frame: pl.DataFrame


@dataclass(frozen=True)
class Served:
    """A method the server offers: its registry entry and, for a hybrid, evaluate's choices."""

    method: Method
    #: ``hybrid(ID + TEXT, w=W)`` for a hybrid (``registry.label``), else the name.
    label: str
    weight: float | None = None
    id_model: str | None = None


@dataclass
class ServeState:
    ds: Dataset
    embedder: Embedder
    #: ``[n_items, dim]`` the embedder's raw item vectors (what evaluate ranks with).
    item_raw: np.ndarray
    #: ``[n_items, dim]`` L2-normalised item vectors, catalogue order.
    item_vecs: torch.Tensor
    #: The test example of each served user (one row per user, ``users`` order).
    examples: pl.DataFrame
    users: list[str]
    user_row: dict[str, int]
    #: Catalogue indices masked from each user's rankings (their earlier items, unless the
    #: evaluation ranked without masking).
    seen: list[list[int]]
    targets: list[int]
    #: Training interactions per item (popularity's reason).
    counts: np.ndarray
    profile_sets: dict[str, ProfileSet]
    #: Served method name -> what it is, in the order the page offers them.
    served: dict[str, Served] = field(default_factory=dict)
    #: ID baseline name -> the fitted model that scores (as the evaluation fitted it).
    id_models: dict[str, Any] = field(default_factory=dict)
    #: Served method -> its registry output over the stored users (``users`` order).
    outputs: dict[str, MethodOutput] = field(default_factory=dict)
    #: Served method -> each stored user's top items, ranked at load by evaluate's own call
    #: (``serve.ranked``), k = evaluate's largest cut-off; a larger k is ranked per request.
    ranked: dict[str, np.ndarray] = field(default_factory=dict)
    #: Per stored user, every earlier item (catalogue indices, oldest first): what the
    #: ID models score (``recsys.sequences.sasrec_histories``).
    id_histories: list[list[int]] = field(default_factory=list)
    #: The evaluation folder whose methods are served (None: the untuned defaults).
    evaluation: str | None = None
    #: The profiler that writes ad-hoc profiles (its template, history format and decoding
    #: with it: a trained run's format, from ``Profiler.from_run``); None: no generation.
    profiler: Profiler | None = None
    #: ``profiler``'s generator (what /v1/methods and the profile route report).
    generator: Generator | None = None

    @property
    def titles(self) -> list[str]:
        return self._titles

    def __post_init__(self) -> None:
        self._profile_cache: dict[tuple[str, ...], str] = {}
        self._titles: list[str] = [
            t or i for t, i in zip(self.ds.items["title"], self.ds.item_ids, strict=True)
        ]

    def methods(self) -> list[str]:
        """Method names for known users, in the order the page offers them."""
        return list(self.served)

    def labels(self) -> dict[str, str]:
        return {name: s.label for name, s in self.served.items()}

    def check_method(self, method: str) -> None:
        if method in self.served:
            return
        hint = ""
        kind, _, rest = method.partition(":")
        if kind in ("profile", "hybrid") and rest:  # the names before the registry
            hint = f" (method names are evaluate's now: {rest!r} or 'hybrid+{rest}')"
        raise UserError(
            f"unknown method {method!r}; choose one of {', '.join(self.methods())}{hint}"
        )

    def adhoc_methods(self) -> list[str]:
        """Methods for a pasted history: the served ones that need no stored profile, and
        ``profile`` / ``history+profile`` / ``hybrid+profile`` for a pasted profile text."""
        out = [PASTED, f"history+{PASTED}"]
        if self.adhoc_hybrid() is not None:
            out.append(f"hybrid+{PASTED}")
        return out + [n for n, s in self.served.items() if s.method.profile_set is None]

    def adhoc_hybrid(self) -> Served | None:
        """The served profile hybrid whose ID model and weight ``hybrid+profile`` uses (the
        first profile set's: a pasted profile has no weight of its own)."""
        return next(
            (s for s in self.served.values() if s.method.kind == "hybrid" and s.method.profile_set),
            None,
        )

    def cached_profile(self, history: Sequence[str]) -> str | None:
        """The profile already written for this exact history (oldest first), if any."""
        return self._profile_cache.get(tuple(history))

    def cache_profile(self, history: Sequence[str], text: str) -> None:
        cache = self._profile_cache
        cache[tuple(history)] = text
        while len(cache) > PROFILE_CACHE_SIZE:
            cache.pop(next(iter(cache)))
