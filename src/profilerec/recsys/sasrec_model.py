"""The SASRec network (Kang & McAuley, 2018), its config and its loss; the training loop
is in ``sasrec``.

Item embedding + learned positional embedding, pre-norm causal self-attention blocks
(``nn.TransformerEncoderLayer``), score = last hidden state . item embeddings. Catalogue
indices go in and out; inside, row 0 of the item table is padding and catalogue item
``i`` is row ``i + 1``. Sequences are right-padded and positions count from the oldest
item (as RecBole does), so under the causal mask no real position attends to padding
and no key mask is needed. ``loss`` and ``score_histories`` take an optional item table
and user offset, so PtE (``methods/pte/backbones.py``) runs this network with its fused
profile vectors instead of copying it.
"""

from __future__ import annotations

import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from profilerec.errors import UserError
from profilerec.recsys.sequences import padded


@dataclass
class SASRecConfig:
    """Hyper-parameters; defaults close to the paper's for sparse Amazon data."""

    hidden: int = field(default=64, metadata={"help": "Width of embeddings and blocks."})
    layers: int = field(default=2, metadata={"help": "Causal self-attention blocks."})
    heads: int = field(default=2, metadata={"help": "Attention heads; must divide hidden."})
    dropout: float = field(default=0.2, metadata={"help": "Dropout on inputs, attention, FFN."})
    max_len: int = field(
        default=50, metadata={"help": "Most recent items read; longer sequences are cut."}
    )
    epochs: int = field(default=30, metadata={"help": "Passes over the training sequences."})
    batch_size: int = field(default=128, metadata={"help": "Sequences per optimiser step."})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate."})
    weight_decay: float = field(default=0.0, metadata={"help": "Adam weight decay."})
    seed: int = field(default=0, metadata={"help": "Seeds initialisation, dropout, shuffling."})
    loss: Literal["ce", "bce"] = field(
        default="ce",
        metadata={"help": "'ce': softmax over the catalogue; 'bce': one sampled negative."},
    )
    patience: int | None = field(
        default=None,
        metadata={"help": "Stop after this many epochs without a better valid NDCG@10; keep best."},
    )
    threads: int | None = field(
        default=None, metadata={"help": "torch.set_num_threads(threads) when set; else untouched."}
    )

    def __post_init__(self) -> None:
        if self.loss not in ("ce", "bce"):
            raise UserError(f"SASRec loss must be 'ce' or 'bce', got {self.loss!r}")
        sizes = (self.hidden, self.layers, self.heads, self.max_len, self.epochs, self.batch_size)
        if min(sizes) < 1 or (self.patience is not None and self.patience < 1):
            raise UserError("SASRec sizes, epochs and patience (when set) must be at least 1")
        if self.hidden % self.heads:
            raise UserError(f"SASRec heads ({self.heads}) must divide hidden ({self.hidden})")


def negatives(seqs: torch.Tensor, n_items: int, gen: torch.Generator) -> torch.Tensor:
    """One random item per position outside its window, as the paper draws negatives
    outside the user's sequence. Rejection sampling; the cap only binds when a window
    covers nearly the whole catalogue."""
    neg = torch.randint(1, n_items + 1, seqs.shape, generator=gen)
    for _ in range(100):
        clash = (neg[:, :, None] == seqs[:, None, :]).any(-1)
        if not clash.any():
            break
        neg[clash] = torch.randint(1, n_items + 1, (int(clash.sum()),), generator=gen)
    return neg


class SASRec(nn.Module):
    """Item table (optionally projected) + learned positions + pre-norm causal blocks."""

    def __init__(
        self,
        n_items: int,
        config: SASRecConfig,
        *,
        item_dim: int | None = None,
        freeze_items: bool = False,
    ) -> None:
        super().__init__()
        self.n_items, self.config, self.freeze_items = n_items, config, freeze_items
        #: Epochs the kept weights were trained for (set by ``train_sasrec``).
        self.trained_epochs = config.epochs
        dim = item_dim or config.hidden
        table = torch.randn(n_items + 1, dim) * dim**-0.5
        self.item_table = nn.Parameter(table, requires_grad=not freeze_items)
        self.item_proj = nn.Linear(dim, config.hidden) if dim != config.hidden else nn.Identity()
        self.pos_emb = nn.Parameter(
            torch.randn(config.max_len, config.hidden) * config.hidden**-0.5
        )
        self.drop = nn.Dropout(config.dropout)
        block = nn.TransformerEncoderLayer(
            config.hidden,
            config.heads,
            dim_feedforward=config.hidden,
            dropout=config.dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            block, config.layers, norm=nn.LayerNorm(config.hidden), enable_nested_tensor=False
        )

    def item_vectors(self) -> torch.Tensor:
        """``[n_items + 1, hidden]``: input embeddings, also the output scoring weights."""
        return self.item_proj(self.item_table)

    def encode(self, seqs: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states ``[B, L, hidden]`` of right-padded internal-index sequences."""
        items = self.item_vectors() if items is None else items
        length = seqs.shape[1]
        x = self.drop(items[seqs] + self.pos_emb[:length])
        mask = nn.Transformer.generate_square_subsequent_mask(length)
        return self.encoder(x, mask=mask, is_causal=True)

    def loss(
        self,
        batch: torch.Tensor,
        gen: torch.Generator,
        *,
        items: torch.Tensor | None = None,
        offset: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Next-item loss at every real position of a right-padded batch of windows.

        ``items`` replaces ``item_vectors()`` (PtE's fused table); ``offset`` ``[B, hidden]``
        is added to every state of its row (PtE's projected user profiles).
        """
        batch = batch[:, : int((batch > 0).sum(1).max())]  # drop all-padding columns
        inputs, targets = batch[:, :-1], batch[:, 1:]
        items = self.item_vectors() if items is None else items
        hidden = self.encode(inputs, items)
        if offset is not None:
            hidden = hidden + offset[:, None, :]
        if self.config.loss == "ce":
            logits = hidden @ items[1:].T
            return F.cross_entropy(logits.flatten(0, 1), targets.flatten() - 1, ignore_index=-1)
        neg = negatives(batch, self.n_items, gen)[:, 1:]
        real = targets > 0
        pos_logit = (hidden * items[targets]).sum(-1)[real]
        neg_logit = (hidden * items[neg]).sum(-1)[real]
        return (F.softplus(-pos_logit) + F.softplus(neg_logit)).mean()

    @torch.no_grad()
    def score_histories(
        self,
        histories: list[list[int]],
        *,
        items: torch.Tensor | None = None,
        offset: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Raw scores ``[B, n_items]`` for the item after each history (catalogue indices).

        ``items`` and ``offset`` as in :meth:`loss`.
        """
        if any(i < 0 or i >= self.n_items for h in histories for i in h):
            raise UserError(f"history holds an index outside the catalogue (0..{self.n_items - 1})")
        was_training = self.training
        self.eval()
        seqs = padded([h[-self.config.max_len :] for h in histories])
        lengths = (seqs > 0).sum(1)
        items = self.item_vectors() if items is None else items
        hidden = self.encode(seqs, items)
        last = hidden[torch.arange(len(histories)), (lengths - 1).clamp(min=0)]
        if offset is not None:
            last = last + offset
        self.train(was_training)
        return last @ items[1:].T

    def save(self, path: str | Path) -> None:
        """One file with config, sizes and weights; ``SASRec.load`` needs nothing else."""
        meta = {"n_items": self.n_items, "item_dim": self.item_table.shape[1]}
        blob = {**meta, "freeze_items": self.freeze_items, "config": asdict(self.config)}
        torch.save({**blob, "state": self.state_dict()}, path)

    @classmethod
    def load(cls, path: str | Path) -> SASRec:
        try:
            blob = torch.load(path, weights_only=True)
            config = SASRecConfig(**blob["config"])
            sizes = {"item_dim": blob["item_dim"], "freeze_items": blob["freeze_items"]}
        except (OSError, RuntimeError, pickle.UnpicklingError, KeyError, TypeError) as err:
            raise UserError(f"{path} is not a SASRec checkpoint written by save(): {err}") from err
        model = cls(blob["n_items"], config, **sizes)
        model.load_state_dict(blob["state"])
        return model.eval()
