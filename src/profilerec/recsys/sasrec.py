"""SASRec (Kang & McAuley, 2018): a causal transformer over item-ID sequences.

It is the ID-based baseline a user would pick instead of LLM profiles, and the backbone
that profile-then-embed initialises from text embeddings (``item_init``). Catalogue
indices (``dataset.item_ids`` order) go in and out; inside, row 0 of the item table is
padding and catalogue item ``i`` is row ``i + 1``. Sequences are right-padded, so under
the causal mask a real position never attends to padding and no key mask is needed.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.retrieval.metrics import NDCG
from profilerec.retrieval.scoring import rank_by_scores


@dataclass
class SASRecConfig:
    """Hyper-parameters; the defaults follow the paper's settings for small, sparse data."""

    hidden: int = field(default=64, metadata={"help": "Width of embeddings and blocks."})
    layers: int = field(default=2, metadata={"help": "Causal self-attention blocks."})
    heads: int = field(default=2, metadata={"help": "Attention heads; must divide hidden."})
    dropout: float = field(default=0.2, metadata={"help": "Dropout on inputs, attention, FFN."})
    max_len: int = field(
        default=50, metadata={"help": "Most recent items read; longer training sequences are cut"}
    )
    epochs: int = field(default=30, metadata={"help": "Passes over the training sequences."})
    batch_size: int = field(default=128, metadata={"help": "Sequences per optimiser step."})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate."})
    weight_decay: float = field(default=0.0, metadata={"help": "Adam weight decay."})
    seed: int = field(default=0, metadata={"help": "Seeds initialisation, dropout, shuffling."})
    loss: str = field(
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
        if min(self.hidden, self.layers, self.heads, self.max_len, self.batch_size) < 1:
            raise UserError("SASRec hidden, layers, heads, max_len and batch_size must be >= 1")
        if self.hidden % self.heads:
            raise UserError(f"SASRec heads ({self.heads}) must divide hidden ({self.hidden})")


class SASRec(nn.Module):
    """Item table (optionally projected) + learned positions + pre-norm causal blocks."""

    def __init__(
        self, n_items: int, config: SASRecConfig, *, item_dim: int | None = None,
        freeze_items: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        self.n_items, self.config, self.freeze_items = n_items, config, freeze_items
        dim = item_dim or config.hidden
        table = torch.randn(n_items + 1, dim) * dim**-0.5
        self.item_table = nn.Parameter(table, requires_grad=not freeze_items)
        self.item_proj = nn.Linear(dim, config.hidden) if dim != config.hidden else nn.Identity()
        self.pos_emb = nn.Parameter(torch.randn(config.max_len, config.hidden) * config.hidden**-0.5)
        self.drop = nn.Dropout(config.dropout)
        block = nn.TransformerEncoderLayer(
            config.hidden, config.heads, dim_feedforward=config.hidden, dropout=config.dropout,
            batch_first=True, norm_first=True,
        )  # fmt: skip
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

    @torch.no_grad()
    def score_histories(self, histories: list[list[int]]) -> torch.Tensor:
        """Raw scores ``[B, n_items]`` for the item after each history (catalogue indices)."""
        if any(i < 0 or i >= self.n_items for h in histories for i in h):
            raise UserError(f"history holds an index outside the catalogue (0..{self.n_items - 1})")
        was_training = self.training
        self.eval()
        seqs = _pad([[i + 1 for i in h[-self.config.max_len :]] for h in histories])
        lengths = (seqs > 0).sum(1)
        items = self.item_vectors()
        hidden = self.encode(seqs, items)
        last = hidden[torch.arange(len(histories)), (lengths - 1).clamp(min=0)]
        self.train(was_training)
        return last @ items[1:].T

    def save(self, path: str | Path) -> None:
        meta = {"n_items": self.n_items, "item_dim": self.item_table.shape[1]}
        blob = {**meta, "freeze_items": self.freeze_items, "config": asdict(self.config)}
        torch.save({**blob, "state": self.state_dict()}, path)

    @classmethod
    def load(cls, path: str | Path) -> SASRec:
        try:
            blob = torch.load(path, weights_only=True)
        except (OSError, RuntimeError) as err:
            raise UserError(f"cannot read SASRec checkpoint {path}: {err}") from err
        model = cls(
            blob["n_items"], SASRecConfig(**blob["config"]), item_dim=blob["item_dim"],
            freeze_items=blob["freeze_items"],
        )  # fmt: skip
        model.load_state_dict(blob["state"])
        return model.eval()


def _pad(seqs: list[list[int]], width: int | None = None) -> torch.Tensor:
    """Right-pad internal-index sequences with 0 (at least one column)."""
    width = width or max(1, *(len(s) for s in seqs))
    return torch.tensor([s + [0] * (width - len(s)) for s in seqs], dtype=torch.long)


def _time_ordered(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Item lists per ``key`` in time order; file order (``_row``) breaks timestamp ties."""
    return frame.sort(key, "timestamp", "_row").group_by(key, maintain_order=True).agg("item_id")


def training_sequences(dataset: Dataset) -> list[list[int]]:
    """Each user's training interactions in time order (catalogue indices), users with 2+.

    Starts from ``dataset.train_interactions()``, so no validation or test target (nor
    anything after it) is ever a training input or label.
    """
    keep = dataset.train_interactions().select("user_id", "item_id", "timestamp")
    rows = dataset.interactions.with_row_index("_row").join(
        keep, on=["user_id", "item_id", "timestamp"], how="semi"
    )
    index = dataset.item_index
    lists = _time_ordered(rows, "user_id")["item_id"].to_list()
    seqs = [[index[i] for i in items if i in index] for items in lists]
    return [s for s in seqs if len(s) >= 2]


def sasrec_histories(
    dataset: Dataset, examples: pl.DataFrame, *, max_len: int | None = None
) -> list[list[int]]:
    """Per example, the user's items strictly before its timestamp, oldest first.

    Unlike ``history`` this is not cut at 20 items (only at ``max_len`` when given), so a
    test example sees its whole past, validation target included, never its own target.
    """
    inter = dataset.interactions.select("user_id", "item_id", "timestamp").with_row_index("_row")
    past = (
        examples.select("example_id", "user_id", pl.col("timestamp").alias("_t"))
        .join(inter, on="user_id")
        .filter(pl.col("timestamp") < pl.col("_t"))
    )
    grouped = _time_ordered(past, "example_id")
    by_id = dict(zip(grouped["example_id"].to_list(), grouped["item_id"].to_list(), strict=True))
    index = dataset.item_index
    out = [[index[i] for i in by_id.get(e, []) if i in index] for e in examples["example_id"]]
    return [h[-max_len:] for h in out] if max_len else out


def _negatives(seqs: torch.Tensor, n_items: int, gen: torch.Generator) -> torch.Tensor:
    """One random item per position, resampled (a few rounds) where it is in the sequence."""
    neg = torch.randint(1, n_items + 1, seqs.shape, generator=gen)
    for _ in range(5):
        clash = (neg[:, :, None] == seqs[:, None, :]).any(-1)
        if not clash.any():
            break
        neg[clash] = torch.randint(1, n_items + 1, (int(clash.sum()),), generator=gen)
    return neg


def _loss(model: SASRec, batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Next-item loss at every real position of a right-padded batch of windows."""
    batch = batch[:, : int((batch > 0).sum(1).max())]  # drop all-padding columns
    inputs, targets = batch[:, :-1], batch[:, 1:]
    items = model.item_vectors()
    hidden = model.encode(inputs, items)
    if model.config.loss == "ce":
        logits = hidden @ items[1:].T
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten() - 1, ignore_index=-1)
    neg = _negatives(targets, model.n_items, gen)
    real = targets > 0
    pos_logit = (hidden * items[targets]).sum(-1)[real]
    neg_logit = (hidden * items[neg]).sum(-1)[real]
    return (F.softplus(-pos_logit) + F.softplus(neg_logit)).mean()


def _windows(seq: list[int], max_len: int) -> list[list[int]]:
    """Cut a long sequence from the end into windows of ``max_len`` inputs + 1 label."""
    return [seq[max(0, end - max_len - 1) : end] for end in range(len(seq), 1, -max_len)]


def train_sasrec(
    dataset: Dataset, config: SASRecConfig | None = None, *, item_init: np.ndarray | None = None,
    freeze_items: bool = False, progress: bool = True,
) -> SASRec:  # fmt: skip
    """Train SASRec on ``training_sequences(dataset)``; returns the model in eval mode.

    ``item_init`` ``[n_items, d]`` (catalogue order) seeds the item table, through a
    learned linear map when ``d != hidden``; ``freeze_items`` keeps that table fixed.
    """
    config = config or SASRecConfig()
    n_items = len(dataset.item_ids)
    if item_init is not None and (item_init.ndim != 2 or item_init.shape[0] != n_items):
        raise UserError(f"item_init must have shape [{n_items}, d], got {item_init.shape}")
    windows = [w for s in training_sequences(dataset) for w in _windows(s, config.max_len)]
    if not windows:
        raise UserError("no user has two training interactions; SASRec has nothing to learn")
    if config.threads:
        torch.set_num_threads(config.threads)
    valid = dataset.split("valid") if config.patience is not None else None
    if valid is not None and valid.is_empty():
        raise UserError("SASRec patience needs validation examples, but the dataset has none")
    seqs = _pad([[i + 1 for i in w] for w in windows], config.max_len + 1)
    with torch.random.fork_rng(devices=[]):  # seed dropout/init without touching caller's RNG
        torch.manual_seed(config.seed)
        gen = torch.Generator().manual_seed(config.seed)
        dim = None if item_init is None else item_init.shape[1]
        model = SASRec(n_items, config, item_dim=dim, freeze_items=freeze_items)
        if item_init is not None:
            with torch.no_grad():
                model.item_table[1:] = torch.as_tensor(item_init, dtype=torch.float32)
                model.item_table[0] = 0.0
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
        best, best_state, stale = -1.0, None, 0
        bar = tqdm(range(config.epochs), desc="SASRec", unit="epoch", disable=not progress)
        for _ in bar:
            model.train()
            total = 0.0
            for batch in torch.randperm(len(seqs), generator=gen).split(config.batch_size):
                loss = _loss(model, seqs[batch], gen)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(batch)
            bar.set_postfix(loss=f"{total / len(seqs):.4f}")
            if valid is None:
                continue
            ndcg = _valid_ndcg(model, dataset, valid)
            bar.set_postfix(loss=f"{total / len(seqs):.4f}", valid_ndcg10=f"{ndcg:.4f}")
            if ndcg > best:
                best, best_state, stale = ndcg, copy.deepcopy(model.state_dict()), 0
            elif (stale := stale + 1) >= (config.patience or 0):
                break
        if best_state is not None:
            model.load_state_dict(best_state)
    return model.eval()


def _valid_ndcg(model: SASRec, dataset: Dataset, valid: pl.DataFrame) -> float:
    """NDCG@10 on the validation split, full catalogue, the user's past masked."""
    histories = sasrec_histories(dataset, valid, max_len=model.config.max_len)
    targets = [dataset.item_index[i] for i in valid["item_id"]]
    result = rank_by_scores(
        lambda a, b: model.score_histories(histories[a:b]),
        len(targets), targets, dataset.seen_before(valid), k=10,
    )  # fmt: skip
    return float(NDCG(10).per_user(result.target_ranks).mean())
