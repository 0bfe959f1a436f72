"""Request and response bodies; their limits are what turns a bad request into a 422."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: Longest history a request may carry (items); longer ones are refused, not cut.
MAX_HISTORY = 200
#: Most items one ranking may return.
MAX_K = 100
#: Characters of one free-text history item / of a pasted profile.
MAX_ITEM_CHARS = 300
MAX_PROFILE_CHARS = 4000

HistoryItem = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ITEM_CHARS)
]
History = Annotated[list[HistoryItem], Field(min_length=1, max_length=MAX_HISTORY)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Item(BaseModel):
    item_id: str
    title: str
    store: str | None = None
    categories: list[str] = []
    price: float | None = None
    description: str | None = None
    training_interactions: int


class HistoryEntry(BaseModel):
    item_id: str
    title: str
    rating: float | None = None
    timestamp: int | None = None


class StoredProfile(BaseModel):
    name: str
    profile: str
    provenance: dict[str, Any]


class User(BaseModel):
    user_id: str
    history: list[HistoryEntry]
    profiles: list[StoredProfile]
    #: The held-out next item (test split), for marking on the page; never used to rank.
    next_item: HistoryEntry


class Recommendation(BaseModel):
    rank: int
    item_id: str
    title: str
    score: float
    why: str


class Recommendations(BaseModel):
    method: str
    #: What the method is, as the report names it (a hybrid's parts and weight).
    label: str = ""
    k: int
    items: list[Recommendation]
    #: Known users only: the held-out next item's id and whether it is in this top-k.
    next_item_id: str | None = None
    next_item_rank_in_topk: int | None = None


class ProfileRequest(Strict):
    #: Oldest first; each entry a catalogue item id or a free-text item title.
    history: History


class ProfileResponse(BaseModel):
    profile: str
    model_id: str
    #: History entries found in the catalogue (the rest were used as free text).
    catalogue_items: list[str]
    seconds: float
    #: True when this exact history was profiled before and the stored text is returned.
    cached: bool = False


class RecommendRequest(Strict):
    history: list[HistoryItem] = Field(default=[], max_length=MAX_HISTORY)
    profile: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_PROFILE_CHARS)]
        | None
    ) = None
    #: Default: ``profile`` when a profile is given, else ``history_text``.
    method: str | None = None
    k: int = Field(default=10, ge=1, le=MAX_K)


class Methods(BaseModel):
    user_methods: list[str]
    adhoc_methods: list[str]
    #: Method -> what it is, as the report names it (``hybrid(sasrec + mean_history, w=0.2)``).
    labels: dict[str, str] = {}
    #: The evaluation whose methods are served (its metrics.json), or None.
    evaluation: str | None = None
    generator: str | None


class UserList(BaseModel):
    users: list[str]
    total: int
