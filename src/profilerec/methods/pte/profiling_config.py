"""The options of PtE's bidirectional profiling (``profiling.py``), written to ``pte_config.json``."""

from __future__ import annotations

from dataclasses import dataclass, field

from profilerec.errors import UserError
from profilerec.methods.pte.reward import PtERewardConfig

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
