"""ProEx (Zhang et al., 2025): several LLM profiles per user/item, mixed into Dirichlet
environments, fused into a collaborative-filtering backbone with an invariance penalty."""

from __future__ import annotations

from profilerec.methods.proex.config import BACKBONE_CONFIGS, BackboneConfig, ProExConfig
from profilerec.methods.proex.environments import (
    environment_variance,
    environment_weights,
    expected_weights,
    seeded_environment_weights,
)
from profilerec.methods.proex.model import ProExModel
from profilerec.methods.proex.train import evaluate_backbone, fit_backbone, train_proex

__all__ = [
    "BACKBONE_CONFIGS",
    "BackboneConfig",
    "ProExConfig",
    "ProExModel",
    "environment_variance",
    "environment_weights",
    "evaluate_backbone",
    "expected_weights",
    "fit_backbone",
    "seeded_environment_weights",
    "train_proex",
]
