"""SimGCL (Yu et al., 2022): LightGCN plus a contrastive loss between two noisy views.

Instead of dropping edges, each view adds a small random vector (length ``eps``, same
orthant as the embedding) after every propagation layer; InfoNCE pulls a node's two views
together and pushes the batch's other nodes away, which spreads embeddings more uniformly.
As in the reference code, layer outputs are averaged without the ego layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from profilerec.errors import UserError
from profilerec.methods.backbones.lightgcn import LightGCN, LightGCNConfig
from profilerec.recsys.graph import TrainGraph, propagate


@dataclass
class SimGCLConfig(LightGCNConfig):
    """LightGCN's fields plus the contrastive ones (paper defaults)."""

    eps: float = field(default=0.1, metadata={"help": "Length of the noise added per layer."})
    cl_weight: float = field(default=0.2, metadata={"help": "Weight of the InfoNCE loss."})
    temperature: float = field(default=0.2, metadata={"help": "InfoNCE temperature."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.eps < 0 or self.temperature <= 0:
            raise UserError("SimGCL eps must be >= 0 and temperature > 0")


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Row i of ``a`` should match row i of ``b`` among all rows of ``b`` (cosine / tau)."""
    logits = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(a)))


class SimGCL(LightGCN):
    """LightGCN propagation without the ego layer, plus the noisy-view contrast."""

    config: SimGCLConfig

    def __init__(self, graph: TrainGraph, config: SimGCLConfig) -> None:
        super().__init__(graph, config)

    def _views(self, gen: torch.Generator | None, eps: float) -> torch.Tensor:
        ego = torch.cat([self.user_emb, self.item_emb])
        return propagate(
            self.adj, ego, self.config.layers, include_ego=False, noise_eps=eps, gen=gen
        )

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        out = self._views(None, 0.0)
        return out[: self.n_users], out[self.n_users :]

    def aux_loss(
        self, users: torch.Tensor, items: torch.Tensor, gen: torch.Generator
    ) -> torch.Tensor:
        """``cl_weight * (InfoNCE over the batch's users + over its items)``."""
        v1, v2 = self._views(gen, self.config.eps), self._views(gen, self.config.eps)
        u, i = torch.unique(users), torch.unique(items) + self.n_users
        tau = self.config.temperature
        return self.config.cl_weight * (info_nce(v1[u], v2[u], tau) + info_nce(v1[i], v2[i], tau))
