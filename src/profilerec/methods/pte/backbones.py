"""PtE's embedding side: SASRec / DreamRec fed with profile embeddings.

Item profile vectors (catalogue order) reach the item table one of three ways:
``init`` seeds the ID table with their principal components, ``add`` adds an MLP
projection of them to the learned ID vectors, ``replace`` uses the projection alone (no
ID table). A projected user profile vector is added to SASRec's sequence representation
(before scoring) or to DreamRec's guidance vector. Vectors passed as None (or switched
off in the config) leave the backbone as it is, so both None is the ID-only reference and
trains exactly like ``train_sasrec`` / ``train_dreamrec`` with the same seed.

The backbones are composed, not edited: ``PtEModel`` holds a plain ``SASRec`` or
``DreamRec`` and supplies the fused item table and the user offset to it. Training reads
``training_sequences(dataset)`` only; profile vectors come from the caller (built from
training-time histories by the profile stage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.evaluate.results import evaluation_examples
from profilerec.methods.backbones.dreamrec import (
    DreamRec,
    DreamRecConfig,
    checked_vectors,
    user_training_sequences,
    valid_ndcg,
    validation_set,
)
from profilerec.recsys.fit import fit_epochs
from profilerec.recsys.graph import user_order
from profilerec.recsys.sasrec import SASRec, SASRecConfig
from profilerec.recsys.sequences import padded, sasrec_histories, windows
from profilerec.retrieval import default_metrics, per_user_table, rank_by_scores

Backbone = Literal["sasrec", "dreamrec"]
Fusion = Literal["none", "init", "add", "replace"]
CONFIGS: dict[str, type[SASRecConfig] | type[DreamRecConfig]] = {
    "sasrec": SASRecConfig,
    "dreamrec": DreamRecConfig,
}


@dataclass
class PtEBackboneConfig:
    """Which backbone, how profiles enter it, and the backbone's own hyper-parameters."""

    backbone: Backbone = field(
        default="sasrec", metadata={"help": "'sasrec' (discriminative) or 'dreamrec' (diffusion)."}
    )
    item_fusion: Fusion = field(
        default="add",
        metadata={
            "help": "Item profiles: 'none' ignores them; 'init' seeds the ID table with their "
            "principal components; 'add' adds their MLP projection to the ID vectors; "
            "'replace' uses the projection instead of an ID table."
        },
    )
    use_user_profiles: bool = field(
        default=True,
        metadata={"help": "Add the projected user profile to the sequence/guidance vector."},
    )
    proj_hidden: int = field(
        default=128, metadata={"help": "Hidden width of the profile projection MLPs."}
    )
    backbone_config: SASRecConfig | DreamRecConfig | None = field(
        default=None, metadata={"help": "The backbone's hyper-parameters; None = its defaults."}
    )

    def __post_init__(self) -> None:
        if self.backbone not in CONFIGS:
            raise UserError(f"unknown PtE backbone {self.backbone!r}; choose sasrec or dreamrec")
        if self.item_fusion not in ("none", "init", "add", "replace"):
            raise UserError(
                f"item_fusion must be none, init, add or replace, got {self.item_fusion!r}"
            )
        if self.proj_hidden < 1:
            raise UserError(f"proj_hidden must be at least 1, got {self.proj_hidden}")
        want = CONFIGS[self.backbone]
        if self.backbone_config is None:
            self.backbone_config = want()
        elif not isinstance(self.backbone_config, want):
            raise UserError(
                f"backbone {self.backbone!r} needs a {want.__name__}, "
                f"got {type(self.backbone_config).__name__}"
            )


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit norm: embedders' vectors mean direction, and scales differ."""
    return F.normalize(x, dim=1)


def principal_init(profiles: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """``table`` with its leading columns replaced by the profiles' principal components,
    rescaled to the table's entry std (further columns keep their random init)."""
    centred = profiles - profiles.mean(0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    k = min(table.shape[1], v.shape[0])
    comps = centred @ v[:k].T
    out = table.clone()
    out[1:, :k] = comps * (table[1:].std() / comps.std().clamp(min=1e-12))
    return out


class PtEModel(nn.Module):
    """A plain backbone (``base``) + profile projections; scores catalogue items."""

    def __init__(
        self,
        base: SASRec | DreamRec,
        fusion: Fusion,
        item_prof: torch.Tensor | None,
        user_prof: torch.Tensor | None,
        proj_hidden: int,
        user_ids: list[str],
    ) -> None:
        super().__init__()
        self.base, self.n_items, self.user_ids = base, base.n_items, user_ids
        self.backbone: Backbone = "sasrec" if isinstance(base, SASRec) else "dreamrec"
        self.fusion: Fusion = fusion if item_prof is not None else "none"
        table = base.item_table if isinstance(base, SASRec) else base.seq.item_table
        dim = table.shape[1]
        self.item_mlp = None
        self.item_scale = float(table[1:].detach().std())
        if item_prof is not None and fusion == "init":
            with torch.no_grad():
                table.copy_(principal_init(_unit_rows(item_prof), table))
        elif item_prof is not None and fusion in ("add", "replace"):
            self.item_mlp = _mlp(item_prof.shape[1], proj_hidden, dim)
            if fusion == "replace":
                table.requires_grad_(False)  # unused; keeps Adam from tracking it
        self.user_mlp = None if user_prof is None else _mlp(user_prof.shape[1], proj_hidden, dim)
        self.register_buffer("item_prof", None if item_prof is None else _unit_rows(item_prof))
        self.register_buffer("user_prof", None if user_prof is None else _unit_rows(user_prof))

    @property
    def uses_item_profiles(self) -> bool:
        return self.fusion != "none"

    @property
    def uses_user_profiles(self) -> bool:
        return self.user_mlp is not None

    @property
    def user_index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.user_ids)}

    def _projection(self) -> torch.Tensor | None:
        """``[n_items + 1, dim]`` projected item profiles (zero padding row), or None.

        Layer-normed and scaled to the ID table's init std, so profile and ID parts start on
        an equal footing (and DreamRec's ``x0`` at the noise's scale).
        """
        if self.item_mlp is None:
            return None
        proj = F.layer_norm(self.item_mlp(self.item_prof), (self.item_mlp[-1].out_features,))
        proj = proj * self.item_scale
        return torch.cat([proj.new_zeros(1, proj.shape[1]), proj])

    def _fuse(self, ids: torch.Tensor, proj: torch.Tensor | None) -> torch.Tensor:
        if proj is None:
            return ids
        return proj if self.fusion == "replace" else ids + proj

    def item_vectors(self) -> torch.Tensor:
        """``[n_items + 1, dim]`` fused item table (row 0 is padding)."""
        return self._fuse(self.base.item_vectors(), self._projection())

    def user_offset(self, users: torch.Tensor) -> torch.Tensor | None:
        """``[B, dim]`` projected user profiles (``user_order`` rows), None without them."""
        return None if self.user_mlp is None else self.user_mlp(self.user_prof[users])

    def loss(self, batch: torch.Tensor, users: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """The backbone's own loss on a right-padded batch of windows and their users."""
        ids, proj = self.base.item_vectors(), self._projection()
        items, offset = self._fuse(ids, proj), self.user_offset(users)
        if isinstance(self.base, DreamRec):
            # Targets see the profile projection through a stop-gradient: with gradients the
            # MLP maps every item to one point, where DreamRec's x0-MSE is zero (collapse).
            x0_items = None if proj is None else self._fuse(ids, proj.detach())
            return self.base.loss(batch, gen, items=items, offset=offset, x0_items=x0_items)
        return self.base.loss(batch, gen, items=items, offset=offset)

    @torch.no_grad()
    def score_histories(self, histories: list[list[int]], users: Sequence[int]) -> torch.Tensor:
        """Scores ``[B, n_items]`` for the item after each history; ``users`` in user_order."""
        was_training = self.training
        self.eval()
        items = self.item_vectors()
        offset = self.user_offset(torch.as_tensor(list(users), dtype=torch.long))
        scores = self.base.score_histories(histories, items=items, offset=offset)
        self.train(was_training)
        return scores


def _build(
    config: PtEBackboneConfig,
    n_items: int,
    items: torch.Tensor | None,
    users: torch.Tensor | None,
    user_ids: list[str],
) -> PtEModel:
    """The plain backbone first (same RNG draws as its own trainer), then the projections."""
    bcfg = config.backbone_config
    base: SASRec | DreamRec
    if isinstance(bcfg, SASRecConfig):
        base = SASRec(n_items, bcfg)
    else:
        assert isinstance(bcfg, DreamRecConfig)
        base = DreamRec(n_items, bcfg)
    fusion = config.item_fusion if items is not None else "none"
    return PtEModel(base, fusion, items, users, config.proj_hidden, user_ids)


def train_pte_backbone(
    dataset: Dataset,
    config: PtEBackboneConfig | None = None,
    *,
    user_vecs: np.ndarray | None = None,  # [n_users, d] rows in user_order(dataset)
    item_vecs: np.ndarray | None = None,  # [n_items, d] catalogue order
    progress: bool = False,
) -> PtEModel:
    """Train the configured backbone with profile vectors on ``training_sequences(dataset)``.

    ``item_fusion='none'`` ignores ``item_vecs``; ``use_user_profiles=False`` ignores
    ``user_vecs``. With neither used this is the ID-only backbone. Validation targets are
    read only when the backbone config sets ``patience``. Returns the model in eval mode.
    """
    config = config or PtEBackboneConfig()
    bcfg = config.backbone_config
    assert bcfg is not None  # filled in by __post_init__
    n_items = len(dataset.item_ids)
    user_ids = user_order(dataset)
    items = checked_vectors(item_vecs, n_items, "item_vecs (catalogue order)")
    users = checked_vectors(user_vecs, len(user_ids), "user_vecs (user_order rows)")
    items = items if config.item_fusion != "none" else None
    users = users if config.use_user_profiles else None
    owners, seqs = user_training_sequences(dataset)
    chunks = [(u, w) for u, s in zip(owners, seqs, strict=True) for w in windows(s, bcfg.max_len)]
    if not chunks:
        raise UserError("no user has two training interactions; the backbone has nothing to learn")
    if bcfg.threads:
        torch.set_num_threads(bcfg.threads)
    valid = validation_set(dataset) if bcfg.patience is not None else None
    batches = padded([w for _, w in chunks], bcfg.max_len + 1)
    chunk_users = torch.tensor([u for u, _ in chunks])
    with torch.random.fork_rng(devices=[]):  # seeds init/dropout; the caller's RNG is kept
        torch.manual_seed(bcfg.seed)
        gen = torch.Generator().manual_seed(bcfg.seed)
        model = _build(config, n_items, items, users, user_ids)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=bcfg.lr, weight_decay=bcfg.weight_decay)
        fit_epochs(
            model,
            opt,
            len(batches),
            lambda batch: model.loss(batches[batch], chunk_users[batch], gen),
            epochs=bcfg.epochs,
            batch_size=bcfg.batch_size,
            gen=gen,
            valid=None if valid is None else lambda: valid_ndcg(model.score_histories, *valid),
            patience=bcfg.patience,
            desc=f"PtE-{config.backbone}",
            progress=progress,
        )
    return model.eval()


def evaluate_pte_backbone(
    model: PtEModel,
    dataset: Dataset,
    split: str,
    ks: Sequence[int] = (10, 20, 50),
    *,
    with_ranks: bool = False,
) -> Any:
    """Per-example metrics (rows in ``dataset.split(split)`` order) over the full catalogue,
    each user's past masked (``seen_before``); the input of ``paired_bootstrap`` and slices.
    ``with_ranks`` also returns the ``RankResult`` (for ``ranks.parquet``)."""
    index = model.user_index
    examples = evaluation_examples(dataset, split, model.n_items, index)
    users = [index[u] for u in examples["user_id"]]
    histories = sasrec_histories(dataset, examples)
    targets = [dataset.item_index[i] for i in examples["item_id"]]
    result = rank_by_scores(
        lambda a, b: model.score_histories(histories[a:b], users[a:b]),
        len(targets),
        targets,
        dataset.seen_before(examples),
        k=max(ks),
    )
    if with_ranks:
        return per_user_table(result.target_ranks, default_metrics(ks)), result
    return per_user_table(result.target_ranks, default_metrics(ks))
