"""Mult-VAE (Liang et al., 2018): a VAE over each user's whole interaction row.

Multinomial likelihood (softmax over the catalogue) suits implicit feedback, where a user's
budget of clicks is spread over items; the KL weight is annealed from 0 to ``anneal_cap``
so the model first learns to reconstruct, then to regularise (the paper's partial
regularisation, beta < 1). The pieces (``encode``, ``rec_loss``, ``kl_loss``,
``score_latent``) are exposed so ProEx can fuse a profile latent into ``z``; the loop is
``profilerec.methods.proex.train.train_proex``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from profilerec.errors import UserError
from profilerec.recsys.graph import TrainGraph


@dataclass
class MultVAEConfig:
    """Hyper-parameters; the paper's 600-200 layers shrunk for small catalogues."""

    hidden: int = field(default=200, metadata={"help": "Width of the encoder/decoder layer."})
    latent: int = field(default=64, metadata={"help": "Latent dimension."})
    dropout: float = field(default=0.5, metadata={"help": "Dropout on the input row."})
    anneal_cap: float = field(default=0.2, metadata={"help": "Largest KL weight (beta)."})
    anneal_steps: int = field(
        default=2000, metadata={"help": "Optimiser steps over which beta grows to anneal_cap."}
    )
    reg_weight: float = field(default=0.0, metadata={"help": "L2 on the weight matrices."})
    epochs: int = field(default=200, metadata={"help": "Passes over the training users."})
    batch_size: int = field(default=64, metadata={"help": "Users per optimiser step."})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate."})

    def __post_init__(self) -> None:
        if min(self.hidden, self.latent, self.anneal_steps, self.epochs, self.batch_size) < 1:
            raise UserError("hidden, latent, anneal_steps, epochs and batch_size must be >= 1")
        if not 0 <= self.dropout < 1:
            raise UserError(f"dropout must be in [0, 1), got {self.dropout}")


def gaussian_kl_std(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, e^logvar) || N(0, I))`` summed over dims, batch mean."""
    return (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)).mean()


def multinomial_nll(logits: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``-sum_i x_i log softmax(logits)_i``, batch mean (the Mult-VAE likelihood)."""
    return -(F.log_softmax(logits, -1) * rows).sum(-1).mean()


class Encoder(nn.Module):
    """Dropout on the L2-normalised row, one tanh layer, then (mu, logvar)."""

    def __init__(self, n_items: int, hidden: int, latent: int, dropout: float) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.net = nn.Sequential(nn.Linear(n_items, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, 2 * latent)

    def forward(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.net(self.drop(F.normalize(rows, dim=-1)))).chunk(2, -1)
        return mu, logvar


def mlp_decoder(latent: int, hidden: int, n_items: int) -> nn.Module:
    return nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, n_items))


def weight_l2(module: nn.Module) -> torch.Tensor:
    """Half the squared norm of every weight matrix (biases excluded)."""
    return 0.5 * sum(
        (p.pow(2).sum() for n, p in module.named_parameters() if "weight" in n), torch.zeros(())
    )


class MultVAE(nn.Module):
    """Encoder q(z|x), decoder softmax(f(z)); scores are the decoder logits at z = mu."""

    kind = "generative"

    def __init__(self, graph: TrainGraph, config: MultVAEConfig) -> None:
        super().__init__()
        self.graph, self.config, self.latent = graph, config, config.latent
        self.encoder = Encoder(graph.n_items, config.hidden, config.latent, config.dropout)
        self.decoder = mlp_decoder(config.latent, config.hidden, graph.n_items)

    def encode(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(rows)

    def make_noise(self, batch: int, gen: torch.Generator) -> None:
        """No randomness beyond z's own sample (kept for the common generative interface)."""
        return None

    def rec_loss(self, rows: torch.Tensor, z: torch.Tensor, noise: None) -> torch.Tensor:
        """Multinomial NLL of the rows given a latent sample ``z``."""
        return multinomial_nll(self.decoder(z), rows)

    def kl_loss(self, mu: torch.Tensor, logvar: torch.Tensor, step: int) -> torch.Tensor:
        beta = min(self.config.anneal_cap, step / self.config.anneal_steps)
        return beta * gaussian_kl_std(mu, logvar)

    def reg_loss(self) -> torch.Tensor:
        return self.config.reg_weight * weight_l2(self)

    def score_latent(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    @torch.no_grad()
    def score_users(self, user_indices: torch.Tensor) -> torch.Tensor:
        mu, _ = self.encode(self.graph.rows(user_indices))
        return self.score_latent(mu)
