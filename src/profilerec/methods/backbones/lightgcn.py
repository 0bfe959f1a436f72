"""LightGCN (He et al., 2020): ID embeddings smoothed over the training graph, BPR loss.

The module exposes the pieces a training loop combines (``representations``, ``reg_loss``,
``aux_loss``, ``score_users``) rather than a closed ``fit``, so ProEx can add its profile
representations to the propagated ones before the BPR loss; the loop is
``profilerec.methods.proex.train.train_proex`` (without profiles it trains the plain model).

Written here instead of using torch_geometric's ``LightGCN``: SimGCL needs noise added inside
every propagation layer and ProEx fuses profiles into the propagated vectors, which PyG's
model does not expose per layer; the shared propagation (``graph.propagate``) is a few
``torch.sparse.mm`` calls, not worth a dependency of PyG's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from profilerec.errors import UserError
from profilerec.recsys.graph import TrainGraph, propagate


@dataclass
class LightGCNConfig:
    """Hyper-parameters of LightGCN (and the graph part of SimGCL); paper-like defaults."""

    dim: int = field(default=64, metadata={"help": "Embedding width."})
    layers: int = field(default=2, metadata={"help": "Propagation layers."})
    reg_weight: float = field(
        default=1e-4, metadata={"help": "L2 on the batch's ID embeddings (per example)."}
    )
    epochs: int = field(default=100, metadata={"help": "Passes over the training pairs."})
    batch_size: int = field(default=256, metadata={"help": "(user, pos, neg) triples per step."})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate."})

    def __post_init__(self) -> None:
        if min(self.dim, self.layers, self.epochs, self.batch_size) < 1:
            raise UserError("dim, layers, epochs and batch_size must be at least 1")


class LightGCN(nn.Module):
    """ID tables + parameter-free propagation; score = propagated user . propagated item."""

    kind = "discriminative"

    def __init__(self, graph: TrainGraph, config: LightGCNConfig) -> None:
        super().__init__()
        self.config = config
        self.n_users, self.n_items = graph.n_users, graph.n_items
        # std 0.1 as in the reference implementation; Xavier gives the same scale here.
        self.user_emb = nn.Parameter(torch.randn(graph.n_users, config.dim) * 0.1)
        self.item_emb = nn.Parameter(torch.randn(graph.n_items, config.dim) * 0.1)
        self.register_buffer("adj", graph.adjacency(), persistent=False)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Final ``[U, d]`` user and ``[I, d]`` item representations."""
        ego = torch.cat([self.user_emb, self.item_emb])
        out = propagate(self.adj, ego, self.config.layers)
        return out[: self.n_users], out[self.n_users :]

    def reg_loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """``reg/2 * (|e_u|^2 + |e_p|^2 + |e_n|^2)`` on the ego embeddings, batch mean."""
        squares = (
            self.user_emb[users].pow(2).sum()
            + self.item_emb[pos].pow(2).sum()
            + self.item_emb[neg].pow(2).sum()
        )
        return self.config.reg_weight * 0.5 * squares / len(users)

    def aux_loss(
        self, users: torch.Tensor, items: torch.Tensor, gen: torch.Generator
    ) -> torch.Tensor:
        """Model-specific extra loss on the batch (none for LightGCN; SimGCL's contrast)."""
        return torch.zeros(())

    @torch.no_grad()
    def score_users(self, user_indices: torch.Tensor) -> torch.Tensor:
        users, items = self.representations()
        return users[user_indices] @ items.T
