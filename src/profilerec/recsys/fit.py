"""The epoch loop shared by the sequential backbones (SASRec, DreamRec, PtE's versions).

Written by hand because it is a dozen lines that the backbones need identically (shuffled
mini-batches from a seeded generator, validation-based early stopping keeping the best
state), and a trainer framework would bring callbacks and devices they do not use.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from profilerec.progress import progress_bar


def fit_epochs(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    n_rows: int,
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    gen: torch.Generator,
    valid: Callable[[], float] | None = None,
    patience: int | None = None,
    desc: str = "training",
    progress: bool = False,
) -> int:
    """Train in place: each epoch visits the ``n_rows`` rows in a random order, in batches
    given to ``batch_loss(row_indices)``. With ``valid`` (a score, higher is better) the
    loop stops after ``patience`` epochs without a better score and keeps the best state.

    Returns the epochs the kept state was trained for (the best epoch with ``valid``, else
    all of them), so a refit without validation data can train exactly as long."""
    best, best_state, stale, best_epoch = -float("inf"), None, 0, epochs
    # a rich bar on a terminal; in a log, a line every few seconds (epochs, rate, ETA)
    with progress_bar(f"{desc} epochs", epochs, enabled=progress) as bar:
        for epoch in range(epochs):
            model.train()
            total = 0.0
            for batch in torch.randperm(n_rows, generator=gen).split(batch_size):
                loss = batch_loss(batch)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(batch)
            if valid is None:
                bar.advance(status=f"loss {total / n_rows:.4f}")
                continue
            score = valid()
            bar.advance(status=f"loss {total / n_rows:.4f}, valid NDCG@10 {score:.4f}")
            if score > best:
                best, best_state, stale = score, copy.deepcopy(model.state_dict()), 0
                best_epoch = epoch + 1
            elif (stale := stale + 1) >= (patience or 0):
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return best_epoch
