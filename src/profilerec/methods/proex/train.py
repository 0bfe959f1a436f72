"""Train a backbone with or without ProEx, and evaluate it on the full catalogue.

``train_proex(dataset, backbone, None, None, config)`` trains the plain backbone (the
"without ProEx" reference); with profile vectors it adds environment mixing, fusion,
alignment, L2 and the environment-variance penalty. Training reads only
``TrainGraph.from_dataset`` (i.e. ``dataset.train_interactions()``); validation targets are
read only for early stopping when ``patience`` is set.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.evaluate.results import evaluation_examples
from profilerec.methods.backbones.ldiffrec import LDiffRec
from profilerec.methods.backbones.lightgcn import LightGCN
from profilerec.methods.backbones.multvae import MultVAE
from profilerec.methods.backbones.simgcl import SimGCL
from profilerec.methods.proex.config import BackboneConfig, ProExConfig
from profilerec.methods.proex.environments import environment_weights
from profilerec.methods.proex.fusion import LossTerms, discriminative_loss, generative_loss
from profilerec.methods.proex.model import ProExModel
from profilerec.progress import progress_bar
from profilerec.recsys.graph import TrainGraph
from profilerec.retrieval import default_metrics, per_user_table, rank_by_scores

BACKBONES = {"lightgcn": LightGCN, "simgcl": SimGCL, "multvae": MultVAE, "ldiffrec": LDiffRec}


def _profiles(vectors: np.ndarray | None, n_rows: int, what: str) -> np.ndarray | None:
    """``[N, K, d]`` float32 (``[N, d]`` is read as K = 1), rows checked against ``n_rows``."""
    if vectors is None:
        return None
    arr = np.asarray(vectors, dtype=np.float32)
    arr = arr[:, None, :] if arr.ndim == 2 else arr
    if arr.ndim != 3 or arr.shape[0] != n_rows or 0 in arr.shape:
        raise UserError(
            f"{what} must have shape [{n_rows}, K, d] (users in user_order(dataset), items in "
            f"catalogue order), got {np.shape(vectors)}"
        )
    if not np.isfinite(arr).all():
        raise UserError(f"{what} contains NaN or infinite values")
    return arr


def _batches(
    graph: TrainGraph, generative: bool, size: int, gen: torch.Generator
) -> Iterator[torch.Tensor]:
    """Shuffled training-pair indices (discriminative) or user indices (generative)."""
    pool = graph.users_with_items() if generative else torch.arange(len(graph.users))
    yield from pool[torch.randperm(len(pool), generator=gen)].split(size)


def _step(
    model: ProExModel, batch: torch.Tensor, step: int, gen: torch.Generator, config: ProExConfig
) -> LossTerms:
    """One batch's loss, drawing fresh environment weights for every profile bank."""
    n, alpha = config.n_envs, config.alpha
    net = model.backbone
    if isinstance(net, LightGCN):
        users = torch.from_numpy(model.graph.users)[batch]
        pos = torch.from_numpy(model.graph.items)[batch]
        neg = model.graph.sample_negatives(users, gen)
        wu = None if model.user_bank is None else environment_weights(n, alpha, model.user_bank.k)
        wi = None if model.item_bank is None else environment_weights(n, alpha, model.item_bank.k)
        return discriminative_loss(
            net, model.user_bank, model.item_bank, (users, pos, neg), (wu, wi), gen, config
        )
    prof = model.user_gaussian
    weights = None if prof is None else environment_weights(n, alpha, prof.bank.k)
    return generative_loss(net, prof, batch, weights, step, gen, config)


def train_proex(
    dataset: Dataset,
    backbone: str,
    user_profile_emb: np.ndarray | None,
    item_profile_emb: np.ndarray | None,
    config: ProExConfig | None = None,
    *,
    progress: bool = False,
) -> ProExModel:
    """Train ``backbone`` (lightgcn, simgcl, multvae, ldiffrec), with ProEx when profiles are
    given: ``user_profile_emb`` ``[n_users, K, d]`` in ``user_order(dataset)``,
    ``item_profile_emb`` ``[n_items, K, d]`` in catalogue order. Generative backbones model
    users only, so they take no item profiles. Returns the model in eval mode."""
    config = config or ProExConfig()
    bcfg: BackboneConfig = config.backbone(backbone)
    graph = TrainGraph.from_dataset(dataset)
    if len(graph.users) == 0:
        raise UserError("the dataset has no training interactions; nothing to learn from")
    users = _profiles(user_profile_emb, graph.n_users, "user_profile_emb")
    items = _profiles(item_profile_emb, graph.n_items, "item_profile_emb")
    generative = backbone in ("multvae", "ldiffrec")
    if generative and items is not None:
        raise UserError(f"{backbone} is generative and models users only; pass no item profiles")
    if config.threads:
        torch.set_num_threads(config.threads)
    with torch.random.fork_rng(devices=[]):  # seeds init, dropout, Dirichlet; caller's RNG kept
        torch.manual_seed(config.seed)
        gen = torch.Generator().manual_seed(config.seed)
        net = BACKBONES[backbone](graph, bcfg)  # type: ignore[arg-type]
        model = ProExModel(net, graph, config, users, items)
        opt = torch.optim.Adam(model.parameters(), lr=bcfg.lr)
        best, best_state, stale, step = -1.0, None, 0, 0
        # a rich bar on a terminal; in a log, a line every few seconds (epochs, rate, ETA)
        with progress_bar(f"{backbone} epochs", bcfg.epochs, enabled=progress) as bar:
            for epoch in range(bcfg.epochs):
                model.train()
                for batch in _batches(graph, generative, bcfg.batch_size, gen):
                    terms = _step(model, batch, step, gen, config)
                    opt.zero_grad()
                    terms.total.backward()
                    opt.step()
                    step += 1
                bar.advance(status=f"loss {terms.total.item():.4f}")
                if config.patience is None or (epoch + 1) % config.eval_every:
                    continue
                ndcg = float(
                    evaluate_backbone(model.eval(), dataset, "valid", ks=(10,))["ndcg@10"].mean()
                )
                if ndcg > best:
                    best, best_state, stale = ndcg, copy.deepcopy(model.state_dict()), 0
                elif (stale := stale + 1) >= config.patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
    return model.eval()


def fit_backbone(
    dataset: Dataset, backbone: str, config: BackboneConfig | None = None, *, seed: int = 0
) -> ProExModel:
    """The plain backbone: ``train_proex`` without profiles."""
    return train_proex(
        dataset, backbone, None, None, ProExConfig(backbone_config=config, seed=seed)
    )


def evaluate_backbone(
    model: ProExModel, dataset: Dataset, split: str, *, ks: Sequence[int] = (10, 20, 50)
) -> dict[str, np.ndarray]:
    """Per-example metrics (rows in ``dataset.split(split)`` order) over the full catalogue,
    with each user's past masked; the input of ``paired_bootstrap``."""
    index = model.user_index
    examples = evaluation_examples(dataset, split, model.n_items, index)
    users = torch.tensor([index[u] for u in examples["user_id"]])
    targets = [dataset.item_index[i] for i in examples["item_id"]]
    masks = dataset.seen_before(examples)
    was_training = model.training
    model.eval()
    result = rank_by_scores(
        lambda a, b: model.score_users(users[a:b]), len(users), targets, masks, k=max(ks)
    )
    model.train(was_training)
    return per_user_table(result.target_ranks, default_metrics(ks))
