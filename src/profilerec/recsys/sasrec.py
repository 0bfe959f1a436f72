"""Training SASRec on a prepared dataset, next item at every position.

Training reads ``training_sequences(dataset)`` only, so no validation or test target is
ever an input or a label (the loss itself is ``SASRec.loss``). The public names of
``sasrec_model`` and ``sequences`` are re-exported here, so ``from profilerec.recsys.sasrec import ...`` reaches the whole API.
"""

from __future__ import annotations

import numpy as np
import torch

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.recsys.fit import fit_epochs
from profilerec.recsys.sasrec_model import SASRec, SASRecConfig, negatives
from profilerec.recsys.sequences import padded, sasrec_histories, training_sequences, windows
from profilerec.retrieval.metrics import NDCG
from profilerec.retrieval.scoring import rank_by_scores

__all__ = [
    "SASRec",
    "SASRecConfig",
    "negatives",
    "sasrec_histories",
    "train_sasrec",
    "training_sequences",
]


def train_sasrec(
    dataset: Dataset,
    config: SASRecConfig | None = None,
    *,
    item_init: np.ndarray | None = None,
    freeze_items: bool = False,
    progress: bool = True,
) -> SASRec:
    """Train SASRec on ``training_sequences(dataset)``; returns the model in eval mode.

    ``item_init`` ``[n_items, d]`` (catalogue order) seeds the item table, through a
    learned linear map when ``d != hidden``; ``freeze_items`` keeps that table fixed.
    """
    config = config or SASRecConfig()
    n_items = len(dataset.item_ids)
    init = None if item_init is None else np.asarray(item_init, dtype=np.float32)
    if init is not None and (init.ndim != 2 or init.shape[0] != n_items):
        raise UserError(
            f"item_init must have shape [{n_items}, d] (catalogue order), got {init.shape}"
        )
    chunks = [w for s in training_sequences(dataset) for w in windows(s, config.max_len)]
    if not chunks:
        raise UserError("no user has two training interactions; SASRec has nothing to learn")
    if config.threads:
        torch.set_num_threads(config.threads)
    valid = _validation(dataset) if config.patience is not None else None
    seqs = padded(chunks, config.max_len + 1)
    with torch.random.fork_rng(devices=[]):  # seed dropout/init without touching caller's RNG
        torch.manual_seed(config.seed)
        gen = torch.Generator().manual_seed(config.seed)
        dim = None if init is None else init.shape[1]
        model = SASRec(n_items, config, item_dim=dim, freeze_items=freeze_items)
        if init is not None:
            with torch.no_grad():
                model.item_table[1:] = torch.from_numpy(init)
                model.item_table[0] = 0.0
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
        model.trained_epochs = fit_epochs(
            model,
            opt,
            len(seqs),
            lambda batch: model.loss(seqs[batch], gen),
            epochs=config.epochs,
            batch_size=config.batch_size,
            gen=gen,
            valid=None if valid is None else lambda: _valid_ndcg(model, *valid),
            patience=config.patience,
            desc="SASRec",
            progress=progress,
        )
    return model.eval()


def _validation(dataset: Dataset) -> tuple[list[list[int]], list[int]]:
    """Full pasts (inputs and masks) and targets of the validation examples."""
    valid = dataset.split("valid")
    if valid.is_empty():
        raise UserError("SASRec patience needs validation examples, but the dataset has none")
    index = dataset.item_index
    return sasrec_histories(dataset, valid), [index[i] for i in valid["item_id"]]


def _valid_ndcg(model: SASRec, histories: list[list[int]], targets: list[int]) -> float:
    """Validation NDCG@10 over the full catalogue with the user's past masked."""
    result = rank_by_scores(
        lambda a, b: model.score_histories(histories[a:b]), len(targets), targets, histories, k=10
    )
    return float(NDCG(10).per_user(result.target_ranks).mean())
