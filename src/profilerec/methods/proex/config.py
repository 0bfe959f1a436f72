"""ProEx training configuration (TRL style: one dataclass, every field with help text).

The backbone's own hyper-parameters (width, epochs, learning rate, ...) live in its config
(``LightGCNConfig``, ``SimGCLConfig``, ``MultVAEConfig``, ``LDiffRecConfig``); this one
holds what ProEx adds on top and the loop's shared settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from profilerec.errors import UserError
from profilerec.methods.backbones.ldiffrec import LDiffRecConfig
from profilerec.methods.backbones.lightgcn import LightGCNConfig
from profilerec.methods.backbones.multvae import MultVAEConfig
from profilerec.methods.backbones.simgcl import SimGCLConfig

BackboneConfig = LightGCNConfig | SimGCLConfig | MultVAEConfig | LDiffRecConfig

#: Backbone name -> its config class (the default config when none is given).
BACKBONE_CONFIGS: dict[str, type[BackboneConfig]] = {
    "lightgcn": LightGCNConfig,
    "simgcl": SimGCLConfig,
    "multvae": MultVAEConfig,
    "ldiffrec": LDiffRecConfig,
}


@dataclass
class ProExConfig:
    """Profile projection, environment mixing and loss weights (paper notation in brackets)."""

    backbone_config: BackboneConfig | None = field(
        default=None, metadata={"help": "The backbone's hyper-parameters; None = its defaults."}
    )
    n_envs: int = field(
        default=3,
        metadata={"help": "Environments E per batch (paper: 2-3 discriminative, 5-8 generative)."},
    )
    alpha: float | list[float] = field(
        default=1.0,
        metadata={"help": "Dirichlet concentration: a scalar or one value per profile."},
    )
    proj_hidden: int = field(
        default=128, metadata={"help": "Hidden width of the MLP mapping profile vectors."}
    )
    align_weight: float = field(
        default=0.1,
        metadata={"help": "[lambda1] Profile-to-backbone alignment (cosine or reverse KL)."},
    )
    l2_weight: float = field(
        default=1e-4, metadata={"help": "[lambda2] L2 on the profile projection's weights."}
    )
    var_weight: float = field(
        default=0.1, metadata={"help": "[lambda3] Variance of the loss across environments."}
    )
    seed: int = field(default=0, metadata={"help": "Seeds init, sampling, dropout, Dirichlet."})
    patience: int | None = field(
        default=None,
        metadata={"help": "Stop after this many checks without a better valid NDCG@10; keep best."},
    )
    eval_every: int = field(default=5, metadata={"help": "Epochs between validation checks."})
    threads: int | None = field(
        default=None, metadata={"help": "torch.set_num_threads(threads) when set; else untouched."}
    )

    def __post_init__(self) -> None:
        if self.n_envs < 1 or self.proj_hidden < 1 or self.eval_every < 1:
            raise UserError("n_envs, proj_hidden and eval_every must be at least 1")
        if self.patience is not None and self.patience < 1:
            raise UserError(f"patience must be at least 1 when set, got {self.patience}")
        if min(self.align_weight, self.l2_weight, self.var_weight) < 0:
            raise UserError("align_weight, l2_weight and var_weight must be non-negative")

    def backbone(self, name: str) -> BackboneConfig:
        """The backbone config to use for ``name``, checked against its type."""
        if name not in BACKBONE_CONFIGS:
            raise UserError(
                f"unknown backbone {name!r}; choose one of {', '.join(BACKBONE_CONFIGS)}"
            )
        cls = BACKBONE_CONFIGS[name]
        if self.backbone_config is None:
            return cls()
        if type(self.backbone_config) is not cls:
            raise UserError(
                f"backbone {name!r} needs a {cls.__name__}, got "
                f"{type(self.backbone_config).__name__}"
            )
        return self.backbone_config
