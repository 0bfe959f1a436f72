"""Log-likelihood of continuations given contexts under a causal LM (shared by text rewards)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np
import torch


class LMScorer:
    """Mean (or summed) token log-probability of ``continuation`` after ``context``.

    When the model is a PEFT model and ``disable_adapter`` is True, scoring runs with
    the adapter switched off, so the policy's own base weights act as the frozen
    scorer without a second copy of the model in memory.
    """

    def __init__(
        self, model: Any, tokenizer: Any, *, batch_size: int = 16, disable_adapter: bool = True
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.disable_adapter = disable_adapter

    @contextmanager
    def _frozen(self) -> Iterator[None]:
        ctx = (
            self.model.disable_adapter()
            if self.disable_adapter and hasattr(self.model, "disable_adapter")
            else nullcontext()
        )
        was_training = self.model.training
        self.model.eval()
        try:
            with ctx, torch.inference_mode():
                yield
        finally:
            self.model.train(was_training)

    def loglik(
        self, contexts: list[str], continuations: list[str], *, normalize: bool = True
    ) -> np.ndarray:
        """One value per pair; ``normalize`` divides by the continuation's token count."""
        out = np.zeros(len(contexts), dtype=np.float64)
        with self._frozen():
            for start in range(0, len(contexts), self.batch_size):
                stop = start + self.batch_size
                out[start:stop] = self._batch(
                    contexts[start:stop], continuations[start:stop], normalize
                )
        return out

    def next_token_logprobs(self, contexts: list[str], token_ids: list[int]) -> np.ndarray:
        """``[n, len(token_ids)]`` log-probabilities of each candidate next token."""
        tok = self.tokenizer
        out = np.zeros((len(contexts), len(token_ids)), dtype=np.float64)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        with self._frozen():
            for start in range(0, len(contexts), self.batch_size):
                batch = [
                    tok(c, add_special_tokens=False)["input_ids"]
                    for c in contexts[start : start + self.batch_size]
                ]
                width = max(map(len, batch))
                # left padding, so the last position is every row's next-token slot
                ids = torch.tensor([[pad] * (width - len(b)) + b for b in batch])
                mask = torch.tensor([[0] * (width - len(b)) + [1] * len(b) for b in batch])
                device = next(self.model.parameters()).device
                logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
                logp = torch.log_softmax(logits[:, -1].float(), dim=-1)[:, token_ids]
                out[start : start + len(batch)] = logp.cpu().numpy()
        return out

    def _batch(self, contexts: list[str], conts: list[str], normalize: bool) -> np.ndarray:
        tok = self.tokenizer
        ids, labels = [], []
        for ctx, cont in zip(contexts, conts, strict=True):
            c = tok(ctx, add_special_tokens=False)["input_ids"]
            t = tok(cont, add_special_tokens=False)["input_ids"] or [tok.eos_token_id]
            ids.append(c + t)
            labels.append([-100] * len(c) + t)
        width = max(map(len, ids))
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in ids])
        mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in ids])
        lab = torch.tensor([s + [-100] * (width - len(s)) for s in labels])
        device = next(self.model.parameters()).device
        logits = self.model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        target = lab[:, 1:].to(device)
        keep = target != -100
        token_lp = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1) * keep
        total = token_lp.sum(-1)
        if normalize:
            total = total / keep.sum(-1).clamp(min=1)
        return total.cpu().numpy()
