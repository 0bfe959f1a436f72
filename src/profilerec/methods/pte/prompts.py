"""The prompts of PtE's bidirectional profiling, from training data and current profiles only.

``TrainingSide`` is what the prompts may read of the dataset (training histories, item
audiences, co-interaction neighbours, titles, and each user's held-out targets, only so
that neighbour notes leave them out); ``Prompts`` builds the four kinds of prompt: round-0
user and item, user and item refinement. The round loop is in ``profiling.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from profilerec.data.dataset import Dataset
from profilerec.data.text import HistoryEntry, render_history
from profilerec.llm.base import Messages
from profilerec.llm.prompts import PromptTemplate, load_template
from profilerec.methods.pte.neighbours import item_users, training_histories, user_neighbours
from profilerec.methods.pte.profiling_config import PtEProfilesConfig
from profilerec.recsys.graph import user_order


@dataclass(frozen=True)
class TrainingSide:
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
    def build(cls, ds: Dataset, k: int) -> TrainingSide:
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


class Prompts:
    """Builds the four kinds of prompt from training data and current profiles only."""

    def __init__(self, train: TrainingSide, config: PtEProfilesConfig) -> None:
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
