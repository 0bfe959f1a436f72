"""The user-item training graph shared by the collaborative-filtering backbones.

Built from ``dataset.train_interactions()`` only, so no validation or test target (or
anything after it) becomes an edge, a BPR positive or a VAE input. Users are indexed in
``user_order(dataset)``; items in catalogue order (``dataset.item_ids``).

LightGCN propagation is written here with a ``torch.sparse`` normalised adjacency rather
than taken from ``torch_geometric``: PyG is not a project dependency (it would add the
aiohttp stack), its ``LightGCN`` cannot inject SimGCL's per-layer noise, and the whole
propagation is a handful of sparse matmuls.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

from profilerec.data.dataset import Dataset


def user_order(dataset: Dataset) -> list[str]:
    """Every user of the dataset, sorted: the row order of user profile embeddings."""
    return sorted(set(dataset.interactions["user_id"].to_list()))


@dataclass(frozen=True)
class TrainGraph:
    """Unique (user, item) training pairs as index arrays, with CSR offsets per user."""

    user_ids: list[str]
    n_items: int
    users: np.ndarray  # [nnz] int64, sorted by user then item
    items: np.ndarray  # [nnz] int64

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> TrainGraph:
        user_ids = user_order(dataset)
        u_index = {u: i for i, u in enumerate(user_ids)}
        pairs = (
            dataset.train_interactions()
            .select(
                pl.col("user_id").replace_strict(u_index, return_dtype=pl.Int64).alias("u"),
                pl.col("item_id")
                .replace_strict(dataset.item_index, default=None, return_dtype=pl.Int64)
                .alias("i"),
            )
            .drop_nulls()  # items outside the catalogue
            .unique()
            .sort("u", "i")
        )
        return cls(
            user_ids=user_ids,
            n_items=len(dataset.item_ids),
            users=pairs["u"].to_numpy().astype(np.int64),
            items=pairs["i"].to_numpy().astype(np.int64),
        )

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def user_index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.user_ids)}

    def adjacency(self) -> torch.Tensor:
        """``D^-1/2 A D^-1/2`` of the bipartite graph, users first: sparse ``[U+I, U+I]``."""
        n = self.n_users + self.n_items
        rows = np.concatenate([self.users, self.items + self.n_users])
        cols = np.concatenate([self.items + self.n_users, self.users])
        degree = np.bincount(rows, minlength=n).astype(np.float64)
        values = 1.0 / np.sqrt(degree[rows] * degree[cols])  # every edge end has degree >= 1
        index = torch.from_numpy(np.stack([rows, cols]))
        adj = torch.sparse_coo_tensor(
            index, torch.from_numpy(values).float(), (n, n), check_invariants=False
        )
        return adj.coalesce()

    @cached_property
    def indptr(self) -> np.ndarray:
        """CSR row offsets: user u's items are ``items[indptr[u]:indptr[u + 1]]``."""
        return np.searchsorted(self.users, np.arange(self.n_users + 1), side="left")

    def rows(self, user_indices: torch.Tensor) -> torch.Tensor:
        """Binary training rows ``[B, n_items]`` (the input of the generative backbones)."""
        idx = user_indices.numpy()
        starts, counts = self.indptr[idx], self.indptr[idx + 1] - self.indptr[idx]
        first = np.cumsum(counts) - counts  # where each row's run starts in the flat output
        flat = np.arange(counts.sum()) - np.repeat(first, counts) + np.repeat(starts, counts)
        out = torch.zeros(len(idx), self.n_items)
        row = torch.from_numpy(np.repeat(np.arange(len(idx)), counts))
        out[row, torch.from_numpy(self.items[flat])] = 1.0
        return out

    def users_with_items(self) -> torch.Tensor:
        """Indices of users with at least one training interaction (VAE training rows)."""
        return torch.from_numpy(np.unique(self.users))

    def sample_negatives(self, users: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """One uniform item per user that is not among the user's training items.

        Rejection sampling; after 20 rounds a clash can only remain for a user who has
        (nearly) the whole catalogue, and it is then left as is.
        """
        keys = torch.from_numpy(self.users * self.n_items + self.items)  # sorted
        neg = torch.randint(self.n_items, users.shape, generator=gen)
        for _ in range(20):
            clash = torch.isin(users * self.n_items + neg, keys)
            if not clash.any():
                break
            neg[clash] = torch.randint(self.n_items, (int(clash.sum()),), generator=gen)
        return neg


def propagate(
    adj: torch.Tensor,
    ego: torch.Tensor,
    n_layers: int,
    *,
    include_ego: bool = True,
    noise_eps: float = 0.0,
    gen: torch.Generator | None = None,
) -> torch.Tensor:
    """Mean of the LightGCN layer outputs ``A^l E`` (l = 0..L, or 1..L without the ego).

    ``noise_eps > 0`` adds SimGCL's perturbation after every layer: a random direction of
    length ``eps`` in the same orthant as the embedding (Yu et al., 2022).
    """
    layers, h = [ego] if include_ego else [], ego
    for _ in range(n_layers):
        h = torch.sparse.mm(adj, h)
        if noise_eps > 0:
            noise = torch.rand(h.shape, generator=gen)
            h = h + torch.sign(h) * F.normalize(noise, dim=-1) * noise_eps
        layers.append(h)
    return torch.stack(layers).mean(0)


def bpr_loss(user: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Bayesian personalised ranking: ``-log sigmoid(u.p - u.n)``, batch mean.

    Inputs may carry leading environment dims (``[..., B, d]``); the mean is over all.
    """
    return F.softplus(-((user * pos).sum(-1) - (user * neg).sum(-1))).mean()
