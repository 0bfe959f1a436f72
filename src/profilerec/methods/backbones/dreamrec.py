"""DreamRec (Yang et al., NeurIPS 2023, "Generate What You Prefer"): guided diffusion over
the next item's embedding.

A causal transformer (SASRec's, reused) reads the history; its state at each position is
the guidance ``c``. A DDPM learns the next item's embedding ``x0`` with an MLP denoiser
``f(x_t, t, c)`` (sinusoidal step embedding). As in the authors' code, ``f`` predicts
``x0`` itself (``target="eps"`` predicts the noise instead) and the item table is learned
jointly through ``x0``. Classifier-free guidance: during training ``c`` is swapped for a
learned null vector with probability ``p_uncond``; sampling uses
``(1 + w) f(x, t, c) - w f(x, t, null)``. Inference generates ``x0`` from noise (on a
respaced chain when ``sample_steps < timesteps``) and scores items by ``x0 . item``.

Training reads ``training_sequences(dataset)`` only; every position of every training
sequence is one (prefix -> next item) example, as SASRec trains.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F
from torch import nn

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.methods.backbones.ldiffrec import timestep_embedding
from profilerec.recsys.fit import fit_epochs
from profilerec.recsys.graph import user_order
from profilerec.recsys.sasrec_model import SASRec, SASRecConfig
from profilerec.recsys.sequences import padded, sasrec_histories, training_sequences, windows
from profilerec.retrieval.metrics import NDCG
from profilerec.retrieval.scoring import rank_by_scores

__all__ = [
    "DreamRec",
    "DreamRecConfig",
    "beta_schedule",
    "reverse_chain",
    "train_dreamrec",
    "user_training_sequences",
]

HistoryScorer = Callable[[list[list[int]], list[int]], torch.Tensor]
"""``score(histories, users)`` -> ``[B, n_items]`` scores (users are ``user_order`` rows)."""


@dataclass
class DreamRecConfig:
    """Hyper-parameters; diffusion defaults from the authors' code (T=200, exp betas, w=2)."""

    dim: int = field(default=64, metadata={"help": "Width of item embeddings, encoder, x0."})
    layers: int = field(default=1, metadata={"help": "Causal self-attention blocks."})
    heads: int = field(default=2, metadata={"help": "Attention heads; must divide dim."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout in the history encoder."})
    max_len: int = field(
        default=50, metadata={"help": "Most recent items read; longer sequences are cut."}
    )
    timesteps: int = field(default=200, metadata={"help": "Diffusion steps T."})
    beta_schedule: Literal["exp", "linear", "cosine"] = field(
        default="exp",
        metadata={"help": "Noise schedule: 'exp' (authors' default), 'linear' or 'cosine'."},
    )
    beta_start: float = field(default=1e-4, metadata={"help": "First beta ('linear' only)."})
    beta_end: float = field(default=0.02, metadata={"help": "Last beta ('linear' only)."})
    target: Literal["x0", "eps"] = field(
        default="x0",
        metadata={"help": "What the denoiser predicts: 'x0' (authors' code) or the noise."},
    )
    p_uncond: float = field(
        default=0.1, metadata={"help": "Chance of training on the null guidance vector."}
    )
    guidance_w: float = field(default=2.0, metadata={"help": "Classifier-free guidance weight w."})
    sample_steps: int | None = field(
        default=None,
        metadata={"help": "Reverse steps at inference (respaced chain); None = all timesteps."},
    )
    lr: float = field(default=5e-3, metadata={"help": "Adam learning rate."})
    weight_decay: float = field(default=0.0, metadata={"help": "Adam weight decay."})
    epochs: int = field(default=60, metadata={"help": "Passes over the training sequences."})
    batch_size: int = field(default=64, metadata={"help": "Sequences per optimiser step."})
    seed: int = field(
        default=0, metadata={"help": "Seeds initialisation, dropout, noise and sampling."}
    )
    patience: int | None = field(
        default=None,
        metadata={"help": "Stop after this many epochs without a better valid NDCG@10; keep best."},
    )
    threads: int | None = field(
        default=None, metadata={"help": "torch.set_num_threads(threads) when set; else untouched."}
    )

    def __post_init__(self) -> None:
        sizes = (self.dim, self.layers, self.heads, self.max_len, self.timesteps, self.epochs)
        if min(*sizes, self.batch_size) < 1 or (self.patience is not None and self.patience < 1):
            raise UserError("DreamRec sizes, timesteps, epochs and patience must be at least 1")
        if self.dim % self.heads:
            raise UserError(f"DreamRec heads ({self.heads}) must divide dim ({self.dim})")
        if self.beta_schedule not in ("exp", "linear", "cosine"):
            raise UserError(
                f"beta_schedule must be 'exp', 'linear' or 'cosine', got {self.beta_schedule!r}"
            )
        if self.target not in ("x0", "eps"):
            raise UserError(f"DreamRec target must be 'x0' or 'eps', got {self.target!r}")
        if not 0.0 <= self.p_uncond < 1.0:
            raise UserError(f"p_uncond must be in [0, 1), got {self.p_uncond}")
        if not 0.0 < self.beta_start < self.beta_end < 1.0:
            raise UserError("need 0 < beta_start < beta_end < 1")
        if self.sample_steps is not None and not 1 <= self.sample_steps <= self.timesteps:
            raise UserError(f"sample_steps must be between 1 and timesteps ({self.timesteps})")


def beta_schedule(config: DreamRecConfig) -> torch.Tensor:
    """``[T]`` float64 betas, following the authors' ``exp`` / ``linear`` / ``cosine``."""
    steps = config.timesteps
    if config.beta_schedule == "linear":
        return torch.linspace(config.beta_start, config.beta_end, steps, dtype=torch.float64)
    if config.beta_schedule == "cosine":
        x = torch.linspace(0, steps, steps + 1, dtype=torch.float64)
        abar = torch.cos((x / steps + 0.008) / 1.008 * math.pi / 2) ** 2
        return (1 - abar[1:] / abar[:-1]).clamp(1e-4, 0.9999)
    # 'exp': the VP-SDE with beta(s) from 0.1 to 10, discretised at midpoints.
    x = torch.linspace(1, 2 * steps + 1, steps, dtype=torch.float64)
    return 1 - torch.exp(-0.1 / steps - x * 0.5 * (10 - 0.1) / steps**2)


def reverse_chain(abar: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
    """Reverse-chain constants on ``k`` evenly spaced steps of ``abar`` (``[T]``, float64):
    the step indices ``t``, the posterior-mean coefficients of ``x0`` and ``x_t``, and the
    posterior std. Nichol & Dhariwal's respacing; ``k = T`` is the plain DDPM chain."""
    use = torch.linspace(0, len(abar) - 1, k).round().long().unique()
    a = abar[use]
    prev = torch.cat([torch.ones(1, dtype=a.dtype), a[:-1]])
    beta = 1 - a / prev
    return {
        "t": use,
        "coef_x0": (beta * prev.sqrt() / (1 - a)).float(),
        "coef_xt": ((1 - prev) * (1 - beta).sqrt() / (1 - a)).float(),
        "std": (beta * (1 - prev) / (1 - a)).sqrt().float(),
    }


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))


class DreamRec(nn.Module):
    """SASRec history encoder (guidance) + null vector + step MLP + MLP denoiser.

    ``users`` ``[n_users, d]`` (optional, ``user_order`` rows) add ``Linear(users[u])`` to
    the guidance of user ``u``. ``items`` / ``offset`` arguments let a wrapper (PtE) supply
    its own item table and guidance offset without subclassing.
    """

    def __init__(
        self,
        n_items: int,
        config: DreamRecConfig,
        *,
        item_dim: int | None = None,
        users: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.n_items, self.config, dim = n_items, config, config.dim
        encoder = SASRecConfig(
            hidden=dim,
            layers=config.layers,
            heads=config.heads,
            dropout=config.dropout,
            max_len=config.max_len,
        )
        self.seq = SASRec(n_items, encoder, item_dim=item_dim)
        with torch.no_grad():  # N(0, 1) entries, as the authors: x0 at the noise's scale
            self.seq.item_table.mul_(self.seq.item_table.shape[1] ** 0.5)
        self.null = nn.Parameter(torch.randn(dim))
        self.step_mlp = _mlp(dim, 2 * dim, dim)
        self.denoiser = _mlp(3 * dim, 2 * dim, dim)
        self.user_proj = None if users is None else nn.Linear(users.shape[1], dim)
        self.register_buffer("user_table", users)
        abar = torch.cumprod(1 - beta_schedule(config), 0)
        self.register_buffer("abar", abar.float(), persistent=False)

    def item_vectors(self) -> torch.Tensor:
        """``[n_items + 1, dim]``: encoder inputs, diffusion targets ``x0`` and scoring weights."""
        return self.seq.item_vectors()

    def user_offset(self, users: torch.Tensor | None) -> torch.Tensor | None:
        """``[B, dim]`` projected user vectors, or None when the model has none."""
        if self.user_proj is None:
            return None
        if users is None:
            raise UserError("this DreamRec was trained with user vectors; pass the users")
        return self.user_proj(self.user_table[users])

    def guidance(
        self, seqs: torch.Tensor, items: torch.Tensor, offset: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``[B, L, dim]`` guidance at every position of right-padded internal sequences."""
        hidden = self.seq.encode(seqs, items)
        return hidden if offset is None else hidden + offset[:, None, :]

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """The denoiser's prediction (``x0`` or noise, per ``config.target``)."""
        step = self.step_mlp(timestep_embedding(t, self.config.dim))
        return self.denoiser(torch.cat([x_t, c, step], -1))

    def loss(
        self,
        batch: torch.Tensor,
        gen: torch.Generator,
        *,
        users: torch.Tensor | None = None,
        items: torch.Tensor | None = None,
        offset: torch.Tensor | None = None,
        x0_items: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Diffusion MSE over every real position of a right-padded batch of windows.

        ``x0_items`` (default ``items``) is the table the targets ``x0`` are read from; a
        wrapper passes a partly detached copy so a fast projection cannot shrink the
        targets to one point (an MSE to a learned target is zero there).
        """
        batch = batch[:, : int((batch > 0).sum(1).max())]
        inputs, targets = batch[:, :-1], batch[:, 1:]
        items = self.item_vectors() if items is None else items
        offset = self.user_offset(users) if offset is None else offset
        real = targets > 0
        c = self.guidance(inputs, items, offset)[real]
        x0 = (items if x0_items is None else x0_items)[targets[real]]
        n = len(x0)
        t = torch.randint(self.config.timesteps, (n,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        drop = torch.rand(n, generator=gen) < self.config.p_uncond
        c = torch.where(drop[:, None], self.null.expand_as(c), c)
        abar = self.abar[t][:, None]
        pred = self.denoise(abar.sqrt() * x0 + (1 - abar).sqrt() * noise, t, c)
        return F.mse_loss(pred, x0 if self.config.target == "x0" else noise)

    @torch.no_grad()
    def generate(self, c: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Sample ``x0`` ``[B, dim]`` for guidance ``c`` with classifier-free guidance.

        Reads ``config.guidance_w`` and ``config.sample_steps`` at call time, so both can be
        changed after training.
        """
        config = self.config
        abar = torch.cumprod(1 - beta_schedule(config), 0)
        w, chain = config.guidance_w, reverse_chain(abar, config.sample_steps or config.timesteps)
        x = torch.randn(c.shape, generator=gen)
        both = torch.cat([c, self.null.expand_as(c)])
        for i in reversed(range(len(chain["t"]))):
            step = int(chain["t"][i])
            t = torch.full((2 * len(c),), step, dtype=torch.long)
            cond, uncond = self.denoise(torch.cat([x, x]), t, both).chunk(2)
            pred = (1 + w) * cond - w * uncond
            if self.config.target == "eps":
                a = self.abar[step]
                pred = (x - (1 - a).sqrt() * pred) / a.sqrt()
            x = chain["coef_x0"][i] * pred + chain["coef_xt"][i] * x
            if i > 0:
                x = x + chain["std"][i] * torch.randn(x.shape, generator=gen)
        return x

    @torch.no_grad()
    def score_histories(
        self,
        histories: list[list[int]],
        users: Sequence[int] | None = None,
        *,
        items: torch.Tensor | None = None,
        offset: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Scores ``[B, n_items]`` for the item after each history (catalogue indices).

        ``users`` are ``user_order`` rows (needed when the model has user vectors). Sampling
        is seeded with ``config.seed`` on every call, so the same input scores the same.
        """
        if any(i < 0 or i >= self.n_items for h in histories for i in h):
            raise UserError(f"history holds an index outside the catalogue (0..{self.n_items - 1})")
        was_training = self.training
        self.eval()
        seqs = padded([h[-self.config.max_len :] for h in histories])
        last = (seqs > 0).sum(1).sub(1).clamp(min=0)
        items = self.item_vectors() if items is None else items
        if offset is None:
            offset = self.user_offset(None if users is None else torch.as_tensor(users))
        c = self.guidance(seqs, items, offset)[torch.arange(len(histories)), last]
        x0 = self.generate(c, torch.Generator().manual_seed(self.config.seed))
        self.train(was_training)
        return x0 @ items[1:].T


def user_training_sequences(dataset: Dataset) -> tuple[list[int], list[list[int]]]:
    """``training_sequences(dataset)`` with each sequence's user (row in ``user_order``).

    ``training_sequences`` lists users with 2+ catalogue training items in ``user_id``
    order; the same users are recounted here from ``train_interactions()``.
    """
    seqs = training_sequences(dataset)
    counts = (
        dataset.train_interactions()
        .filter(pl.col("item_id").is_in(dataset.item_ids))
        .group_by("user_id")
        .len()
        .filter(pl.col("len") >= 2)
        .sort("user_id")
    )
    row = {u: i for i, u in enumerate(user_order(dataset))}
    users = [row[u] for u in counts["user_id"]]
    if counts["len"].to_list() != [len(s) for s in seqs]:  # pragma: no cover - invariant
        raise RuntimeError("training sequences and their users went out of step")
    return users, seqs


def checked_vectors(vectors: np.ndarray | None, rows: int, what: str) -> torch.Tensor | None:
    """``[rows, d]`` float32 tensor, or a UserError naming the expected shape."""
    if vectors is None:
        return None
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] != rows or arr.shape[1] == 0:
        raise UserError(f"{what} must have shape [{rows}, d], got {np.shape(vectors)}")
    if not np.isfinite(arr).all():
        raise UserError(f"{what} contains NaN or infinite values")
    return torch.from_numpy(arr.copy())


def train_dreamrec(
    dataset: Dataset,
    config: DreamRecConfig | None = None,
    *,
    item_init: np.ndarray | None = None,
    user_vecs: np.ndarray | None = None,
    progress: bool = False,
) -> DreamRec:
    """Train DreamRec on ``training_sequences(dataset)``; returns the model in eval mode.

    ``item_init`` ``[n_items, d]`` (catalogue order) seeds the item table, rescaled to unit
    entry std like the random init (through a learned linear map when ``d != dim``).
    ``user_vecs`` ``[n_users, d]`` (``user_order`` rows) are projected and added to the
    guidance. Validation targets are read only when ``patience`` is set (early stopping
    on valid NDCG@10).
    """
    config = config or DreamRecConfig()
    n_items = len(dataset.item_ids)
    init = checked_vectors(item_init, n_items, "item_init (catalogue order)")
    users = checked_vectors(user_vecs, len(user_order(dataset)), "user_vecs (user_order rows)")
    owners, seqs = user_training_sequences(dataset)
    chunks = [(u, w) for u, s in zip(owners, seqs, strict=True) for w in windows(s, config.max_len)]
    if not chunks:
        raise UserError("no user has two training interactions; DreamRec has nothing to learn")
    if config.threads:
        torch.set_num_threads(config.threads)
    valid = validation_set(dataset) if config.patience is not None else None
    batches = padded([w for _, w in chunks], config.max_len + 1)
    chunk_users = torch.tensor([u for u, _ in chunks])
    with torch.random.fork_rng(devices=[]):  # seeds init/dropout; the caller's RNG is kept
        torch.manual_seed(config.seed)
        gen = torch.Generator().manual_seed(config.seed)
        dim = None if init is None else init.shape[1]
        model = DreamRec(n_items, config, item_dim=dim, users=users)
        if init is not None:
            with torch.no_grad():
                model.seq.item_table[1:] = init / init.std().clamp(min=1e-12)
                model.seq.item_table[0] = 0.0
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        fit_epochs(
            model,
            opt,
            len(batches),
            lambda batch: model.loss(batches[batch], gen, users=chunk_users[batch]),
            epochs=config.epochs,
            batch_size=config.batch_size,
            gen=gen,
            valid=None if valid is None else lambda: valid_ndcg(model.score_histories, *valid),
            patience=config.patience,
            desc="DreamRec",
            progress=progress,
        )
    return model.eval()


def validation_set(dataset: Dataset) -> tuple[list[list[int]], list[int], list[int]]:
    """Full pasts, users (``user_order`` rows) and targets of the validation examples."""
    valid = dataset.split("valid")
    if valid.is_empty():
        raise UserError("patience needs validation examples, but the dataset has none")
    row = {u: i for i, u in enumerate(user_order(dataset))}
    targets = [dataset.item_index[i] for i in valid["item_id"]]
    return sasrec_histories(dataset, valid), [row[u] for u in valid["user_id"]], targets


def valid_ndcg(
    score: HistoryScorer, histories: list[list[int]], users: list[int], targets: list[int]
) -> float:
    """Validation NDCG@10 over the full catalogue with the user's past masked."""

    def chunk(a: int, b: int) -> torch.Tensor:
        return score(histories[a:b], users[a:b])

    result = rank_by_scores(chunk, len(targets), targets, histories, k=10)
    return float(NDCG(10).per_user(result.target_ranks).mean())
