"""Exact log-probabilities from a causal LM for the QA tasks, batched without padding errors.

Right padding, read at each row's last real token: a causal model's real positions never see
the pads and keep their own position ids, so a batched row equals its lone forward pass (left
padding without position ids would shift every shorter row). The options of one choice
question share their prompt, so the prompt is encoded once and its key/value cache is reused
by every option (one prefill per question instead of one per option).
"""

from __future__ import annotations

from typing import Any

import torch

from profilerec.rewards.lm_scorer import LMScorer


def _eval(model: Any) -> Any:
    was_training = model.training
    model.eval()
    return was_training


def next_token_logprobs(scorer: LMScorer, texts: list[str], token_ids: list[int]) -> list[Any]:
    """``[len(texts)][len(token_ids)]`` log-probabilities of each candidate next token."""
    tok, model = scorer.tokenizer, scorer.model
    rows = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    width = max(map(len, rows))
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    device = next(model.parameters()).device
    was_training = _eval(model)
    try:
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
    finally:
        model.train(was_training)
    last = logits[torch.arange(len(rows)), torch.tensor([len(r) - 1 for r in rows])].float()
    return torch.log_softmax(last, dim=-1)[:, token_ids].cpu().tolist()  # type: ignore[no-any-return]


def option_logliks(
    scorer: LMScorer, prompt: str, options: list[str], *, normalize: bool
) -> list[float]:
    """Log-likelihood of each option continuing ``prompt`` (mean per token if ``normalize``).

    Prompt and option are tokenised apart, as ``LMScorer.loglik`` does, so the two agree.
    """
    tok, model = scorer.tokenizer, scorer.model
    device = next(model.parameters()).device
    head = tok(prompt, add_special_tokens=False)["input_ids"]
    conts = [tok(o, add_special_tokens=False)["input_ids"] or [tok.eos_token_id] for o in options]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    width = max(map(len, conts))
    ids = torch.tensor([c + [pad] * (width - len(c)) for c in conts], device=device)
    real = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in conts], device=device)
    n, start = len(conts), len(head)
    was_training = _eval(model)
    try:
        with torch.inference_mode():
            first = model(input_ids=torch.tensor([head], device=device), use_cache=True)
            cache = first.past_key_values
            cache.batch_repeat_interleave(n)
            mask = torch.cat([torch.ones(n, start, dtype=real.dtype, device=device), real], dim=1)
            positions = torch.arange(start, start + width, device=device).expand(n, -1)
            rest = model(
                input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache
            ).logits
    finally:
        model.train(was_training)
    # token j of an option is predicted by the prompt's last position (j = 0) or option token j-1
    logits = torch.cat([first.logits[:, -1:].expand(n, -1, -1), rest[:, :-1]], dim=1).float()
    token_lp = torch.log_softmax(logits, dim=-1).gather(-1, ids.unsqueeze(-1)).squeeze(-1) * real
    total = token_lp.sum(-1)
    if normalize:
        total = total / real.sum(-1)
    return total.cpu().tolist()  # type: ignore[no-any-return]
