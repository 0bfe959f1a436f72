"""``QAConfig``: which tasks, which examples, and how the questions are asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from profilerec.errors import UserError
from profilerec.profile.prompts import HistoryFormat

TASKS = ("rating", "choice", "review")
#: Contexts that need no profile set; each profile set adds its own name.
BASE_CONTEXTS = ("none", "history")


@dataclass
class QAConfig:
    """Settings of the ``qa`` stage; written into metrics.json."""

    tasks: tuple[str, ...] = ("rating", "choice")
    split: str = "test"
    #: Only the first N examples by example_id (0 = all).
    limit: int = 0
    #: Wrong options beside the true next item in the choice task (chance = 1 / (n + 1)).
    n_negatives: int = 3
    #: Choice score: mean token log-prob of the option (True) or the sum (False, favours short titles).
    normalize_choice: bool = True
    #: Characters of each item title in questions and options.
    item_chars: int = 100
    #: Characters of a profile shown as context (longer ones are cut at a word).
    profile_chars: int = 600
    #: New tokens of a generated review title.
    review_tokens: int = 16
    #: Forward passes per batch.
    batch_size: int = 8
    #: Context every other context (and the trivial predictors) is compared with.
    reference: str = "history"
    bootstrap: int = 1000
    seed: int = 0
    #: The history rendering of the profile prompts, so "history" shows what a profiler saw.
    history: HistoryFormat = field(default_factory=HistoryFormat)

    def __post_init__(self) -> None:  # fail before any model is loaded
        unknown = set(self.tasks) - set(TASKS)
        if unknown or not self.tasks:
            raise UserError(f"unknown task(s) {sorted(unknown)}; choose from {', '.join(TASKS)}")
        if self.split not in ("train", "valid", "test"):
            raise UserError(f"unknown split {self.split!r}; choose train, valid or test")
        if self.n_negatives < 1:
            raise UserError(f"n_negatives must be at least 1, got {self.n_negatives}")
        if self.limit < 0 or self.batch_size < 1:
            raise UserError("--limit must be >= 0 and --batch-size >= 1")
