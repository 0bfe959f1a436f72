"""A trained backbone together with its ProEx profile modules, scoring the full catalogue."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from profilerec.methods.backbones.ldiffrec import LDiffRec
from profilerec.methods.backbones.lightgcn import LightGCN
from profilerec.methods.backbones.multvae import MultVAE
from profilerec.methods.proex.config import ProExConfig
from profilerec.methods.proex.environments import expected_weights
from profilerec.methods.proex.fusion import ProfileBank, ProfileGaussian
from profilerec.recsys.graph import TrainGraph


class ProExModel(nn.Module):
    """Backbone + optional profile banks. Without profiles it scores as the plain backbone.

    At inference each node's K profiles are mixed with the Dirichlet mean
    ``alpha / sum(alpha)``: the expected environment, the same for every user.
    """

    def __init__(
        self,
        backbone: LightGCN | MultVAE | LDiffRec,
        graph: TrainGraph,
        config: ProExConfig,
        users: np.ndarray | None,
        items: np.ndarray | None,
    ) -> None:
        super().__init__()
        self.backbone, self.graph, self.alpha = backbone, graph, config.alpha
        self.user_bank: ProfileBank | None = None
        self.item_bank: ProfileBank | None = None
        self.user_gaussian: ProfileGaussian | None = None
        if isinstance(backbone, LightGCN):
            if users is not None:
                self.user_bank = ProfileBank(users, config.proj_hidden, backbone.config.dim)
            if items is not None:
                self.item_bank = ProfileBank(items, config.proj_hidden, backbone.config.dim)
        elif users is not None:
            self.user_gaussian = ProfileGaussian(users, config.proj_hidden, backbone.latent)

    @property
    def user_ids(self) -> list[str]:
        return self.graph.user_ids

    @property
    def user_index(self) -> dict[str, int]:
        return self.graph.user_index

    @property
    def n_items(self) -> int:
        return self.graph.n_items

    @property
    def uses_profiles(self) -> bool:
        return any(m is not None for m in (self.user_bank, self.item_bank, self.user_gaussian))

    def _mean(self, k: int) -> torch.Tensor:
        return expected_weights(self.alpha, k)[None]  # [1, K]: one "environment"

    @torch.no_grad()
    def score_users(self, user_indices: torch.Tensor) -> torch.Tensor:
        """Scores ``[B, n_items]`` for users given by their index in ``user_ids``."""
        model = self.backbone
        if not isinstance(model, LightGCN):
            mu, _ = model.encode(self.graph.rows(user_indices))
            if self.user_gaussian is not None:
                weights = self._mean(self.user_gaussian.bank.k)
                mu = mu + self.user_gaussian(user_indices, weights)[0][0]
            return model.score_latent(mu)
        users, items = model.representations()
        users = users[user_indices]
        if self.user_bank is not None:
            users = users + self.user_bank.mixed(user_indices, self._mean(self.user_bank.k))[0]
        if self.item_bank is not None:
            items = items + self.item_bank.mixed(None, self._mean(self.item_bank.k))[0]
        return users @ items.T
