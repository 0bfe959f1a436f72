"""Trainable-embedding condition: fine-tune the embedder on (profile, next item) pairs between GRPO rounds.

Every ``every`` GRPO steps the current policy writes greedy profiles for a fixed set of
training examples; sentence-transformers fine-tunes the embedder on (profile, target
item text) with MultipleNegativesRankingLoss; the item vectors the embedding reward
and the validator use are then recomputed, so the next GRPO round optimises against
the updated embedder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainerCallback

from profilerec.embed.st import SentenceTransformerEmbedder
from profilerec.llm.base import GenerationConfig, Messages
from profilerec.llm.hf import TransformersGenerator


def finetune_embedder(
    embedder: SentenceTransformerEmbedder,
    anchors: list[str],
    positives: list[str],
    *,
    epochs: int = 1,
    batch_size: int = 16,
    lr: float = 2e-5,
    seed: int = 0,
    on_batch: Callable[[], None] | None = None,
) -> float:
    """MNRL fine-tuning (in-batch negatives) in place; returns the mean loss.

    ``on_batch`` is called after every optimiser step (a progress bar's advance)."""
    import torch
    from sentence_transformers import losses

    model = embedder.model
    loss_fn = losses.MultipleNegativesRankingLoss(model)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    model.train()
    total, batches = 0.0, 0
    for _ in range(epochs):
        order = rng.permutation(len(anchors))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            if len(idx) < 2:
                continue
            features = [
                _tokenize(model, [anchors[i] for i in idx]),
                _tokenize(model, [positives[i] for i in idx]),
            ]
            loss = loss_fn(features, labels=None)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, batches = total + float(loss.detach()), batches + 1
            if on_batch is not None:
                on_batch()
    model.eval()
    return total / max(batches, 1)


def _tokenize(model: Any, texts: list[str]) -> dict[str, Any]:
    features = model.tokenize(texts)
    device = model.device
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}


class EmbedderRounds(TrainerCallback):  # type: ignore[misc]
    """Alternates embedder fine-tuning with GRPO: runs after every ``every`` steps."""

    def __init__(
        self,
        embedder: SentenceTransformerEmbedder,
        prompts: list[Messages],
        targets: list[str],
        item_texts: list[str],
        consumers: list[Any],
        tokenizer: Any,
        *,
        every: int,
        max_new_tokens: int,
        save_dir: Path,
        log: Any,
    ) -> None:
        self.embedder = embedder
        self.prompts, self.targets, self.item_texts = prompts, targets, item_texts
        self.consumers = consumers  # objects with an ``items`` array to refresh
        self.tokenizer = tokenizer
        self.every = every
        self.max_new_tokens = max_new_tokens
        self.save_dir = save_dir
        self.log = log
        self.round = 0

    def on_step_end(
        self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any
    ) -> None:
        if not self.every or state.global_step % self.every or state.global_step == state.max_steps:
            return
        was_training = model.training
        model.eval()
        try:
            gen = TransformersGenerator.wrap(model, self.tokenizer, "policy", batch_size=16)
            profiles = gen.generate(
                self.prompts, GenerationConfig(max_new_tokens=self.max_new_tokens)
            )
        finally:
            model.train(was_training)
        self.round += 1
        loss = finetune_embedder(self.embedder, profiles, self.targets, seed=self.round)
        items = self.embedder.embed(self.item_texts)
        for consumer in self.consumers:
            consumer.items = items / np.maximum(np.linalg.norm(items, axis=1, keepdims=True), 1e-12)
        self.embedder.model.save(str(self.save_dir))
        self.log(
            {"step": state.global_step, "embedder_round": self.round, "embedder_mnrl_loss": loss}
        )
