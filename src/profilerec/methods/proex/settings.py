"""ProEx's chain settings: the K-profiles config and the four steps' templates.

Apart from ``cot`` (which re-exports both) so the chain module stays about one job: the
prompts and the engine run. Both pickle, as the Ray engine needs for ``cot.ChainWork``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig
from profilerec.llm.prompts import PromptTemplate, load_template

Kind = Literal["user", "item"]
NOUN: dict[str, str] = {"user": "customer", "item": "product"}


@dataclass
class ProExProfilesConfig:
    """How the K profiles per user/item are written; saved as ``proex_profiles_config.json``."""

    k: int = field(default=4, metadata={"help": "Profiles per entity: F1 plus K-1 from F4."})
    entities: str = field(
        default="both", metadata={"help": "Who gets profiles: users, items or both."}
    )
    batch_size: int = field(
        default=16, metadata={"help": "Entities per batch (and per resumable part file)."}
    )
    max_new_tokens: int = field(
        default=48, metadata={"help": "Token budget of every step's output."}
    )
    temperature: float = field(
        default=0.9, metadata={"help": "Sampling temperature of the F4 profiles (F1-F3 greedy)."}
    )
    top_p: float = field(default=1.0, metadata={"help": "Nucleus mass of the F4 sampling."})
    history_items: int = field(
        default=10, metadata={"help": "Most recent training interactions shown per user."}
    )
    item_chars: int = field(
        default=60, metadata={"help": "Characters of each item title in a user's history."}
    )
    snippet_chars: int = field(
        default=40, metadata={"help": "Characters of each review snippet (0 = ratings only)."}
    )
    item_budget: int = field(
        default=200, metadata={"help": "Characters of an item's metadata in its F1 prompt."}
    )
    item_reviews: int = field(
        default=5, metadata={"help": "Most recent training reviews shown per item."}
    )
    styles: tuple[str, ...] = field(
        default=(
            "as a list of its key traits",
            "starting from the hidden preferences",
            "as a one-line summary followed by one detail",
            "as a friend who knows it well would put it",
        ),
        metadata={"help": "F4 style hints, one per new profile (cycled)."},
    )
    seed: int = field(default=0, metadata={"help": "Seed; new profile j samples with seed + j."})

    def __post_init__(self) -> None:
        if self.k < 1 or self.batch_size < 1 or self.max_new_tokens < 1:
            raise UserError("k, batch_size and max_new_tokens must be at least 1")
        if self.entities not in ("users", "items", "both"):
            raise UserError(f"entities must be users, items or both, got {self.entities!r}")
        if self.k > 1 and (self.temperature <= 0 or not self.styles):
            raise UserError("K > 1 needs a positive temperature and at least one style")
        self.styles = tuple(self.styles)

    @property
    def kinds(self) -> list[Kind]:
        kinds: list[Kind] = []
        if self.entities in ("users", "both"):
            kinds.append("user")
        if self.entities in ("items", "both"):
            kinds.append("item")
        return kinds

    def greedy(self) -> GenerationConfig:
        return GenerationConfig(max_new_tokens=self.max_new_tokens, seed=self.seed)

    def sampled(self, j: int) -> GenerationConfig:
        """New profile ``j`` (1..K-1): its own seed, so the K-1 samples differ."""
        return GenerationConfig(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            seed=self.seed + j,
        )


@dataclass(frozen=True)
class Templates:
    f1_user: PromptTemplate
    f1_item: PromptTemplate
    f2: PromptTemplate
    f3: PromptTemplate
    f4: PromptTemplate

    @classmethod
    def load(cls) -> Templates:
        return cls(*(load_template(f"proex_{n}") for n in ("f1_user", "f1_item", "f2", "f3", "f4")))

    def digest(self) -> list[str]:
        return [t.digest for t in (self.f1_user, self.f1_item, self.f2, self.f3, self.f4)]
