"""Tuned-embedder configuration (one dataclass, every field with help text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from profilerec.errors import UserError


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class EmbedderTuneConfig:
    """Fine-tune the retrieval embedder on (history text -> next item text) training pairs.

    BLUE's trainable-embedder condition and a plain baseline in one: the embedder learns
    what the training users bought next, and every text method (history text, any profile)
    is then evaluated under it with ``evaluate --embedder sentence-transformers:RUN/embedder``.
    """

    embedder: str = _f(
        "sentence-transformers",
        "Base embedder: `sentence-transformers` (bundled MiniLM) or "
        "`sentence-transformers:ID_OR_FOLDER`.",
    )
    epochs: int = _f(3, "Passes over all training pairs; the best epoch is kept by validation.")
    batch_size: int = _f(
        32, "Pairs per MultipleNegativesRankingLoss batch (the other items are the negatives)."
    )
    learning_rate: float = _f(2e-5, "AdamW learning rate.")
    max_seq_length: int = _f(
        128,
        "Token cap while training (histories are newest-first, so only the oldest items are "
        "cut); the saved model keeps the base model's cap for evaluation.",
    )
    item_text_budget: int = _f(300, "Characters of item text (evaluate's default).")
    valid_examples: int = _f(
        0, "Validation examples scored after each epoch (0 = all); never test."
    )
    seed: int = _f(0, "Seed of the pair order.")
    threads: int = _f(0, "torch threads (0 = torch's default).")

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "max_seq_length", "item_text_budget"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.batch_size < 2:
            raise UserError("batch_size must be at least 2: in-batch negatives need a batch")
        if not self.learning_rate > 0:
            raise UserError(f"learning_rate must be > 0, not {self.learning_rate}")
        if self.valid_examples < 0 or self.threads < 0:
            raise UserError("valid_examples and threads must be >= 0")
        prefix, _, name = self.embedder.partition(":")
        if self.embedder.strip() not in ("sentence-transformers", "minilm") and not (
            prefix.strip() == "sentence-transformers" and name.strip()
        ):
            raise UserError(
                f"the tuned embedder must be a sentence-transformers model "
                f"(`sentence-transformers` or `sentence-transformers:ID_OR_FOLDER`), "
                f"not {self.embedder!r}"
            )

    @property
    def base_model(self) -> str | None:
        """The model to load: an id or folder, or ``None`` for the bundled MiniLM."""
        return self.embedder.partition(":")[2].strip() or None
