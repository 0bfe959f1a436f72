"""Tiny prepared datasets with a planted structure, and profile vectors that encode it.

Leave-last-out like ``prepare``: per user the last item is the test target, the second
last the validation target, earlier positions (from 1) are training examples.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from profilerec.data.dataset import Dataset
from profilerec.data.schema import (
    EXAMPLES_FILE,
    EXAMPLES_SCHEMA,
    INTERACTIONS_FILE,
    INTERACTIONS_SCHEMA,
    ITEMS_FILE,
    ITEMS_SCHEMA,
    MANIFEST_FILE,
)


def write_dataset(root: Path, sequences: dict[str, list[str]], catalogue: list[str]) -> Dataset:
    """Write the four canonical files for ``sequences`` (user -> items, oldest first)."""
    items = [
        {"item_id": i, "title": f"item {i}", "description": "", "features": [],
         "categories": [], "store": "", "price": None, "details": "", "has_meta": True}
        for i in catalogue
    ]  # fmt: skip
    inter, examples = [], []
    for user, seq in sequences.items():
        for k, item in enumerate(seq):
            t = 1000 * (k + 1)
            inter.append(
                {"user_id": user, "item_id": item, "timestamp": t, "rating": 5.0,
                 "review_title": "", "review_text": ""}
            )  # fmt: skip
            if k == 0:
                continue
            split = "test" if k == len(seq) - 1 else "valid" if k == len(seq) - 2 else "train"
            examples.append(
                {"example_id": len(examples), "user_id": user, "item_id": item, "timestamp": t,
                 "position": k, "history": seq[:k], "history_len": k, "split": split}
            )  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(items, schema=ITEMS_SCHEMA), root / ITEMS_FILE)
    pq.write_table(
        pa.Table.from_pylist(inter, schema=INTERACTIONS_SCHEMA), root / INTERACTIONS_FILE
    )
    pq.write_table(pa.Table.from_pylist(examples, schema=EXAMPLES_SCHEMA), root / EXAMPLES_FILE)
    (root / MANIFEST_FILE).write_text(json.dumps({"name": root.name, "split": "leave-last-out"}))
    return Dataset.load(root)


def clustered(
    root: Path, *, n_users: int = 40, per_cluster: int = 12, length: int = 8, seed: int = 0
) -> Dataset:
    """Two clusters: even users only take items ``a*``, odd users only ``b*`` (random order)."""
    rng = np.random.default_rng(seed)
    clusters = {c: [f"{c}{j:02d}" for j in range(per_cluster)] for c in "ab"}
    sequences = {
        f"u{n:03d}": list(rng.permutation(clusters["ab"[n % 2]])[:length]) for n in range(n_users)
    }
    return write_dataset(root, sequences, clusters["a"] + clusters["b"])


def cluster_profiles(
    labels: np.ndarray, k: int, dim: int = 8, noise: float = 0.1, seed: int = 0
) -> np.ndarray:
    """``[N, K, dim]``: each of the K profiles is the row's cluster one-hot plus noise."""
    rng = np.random.default_rng(seed)
    onehot = np.eye(dim, dtype=np.float32)[labels]
    return onehot[:, None, :] + noise * rng.standard_normal((len(labels), k, dim), np.float32)


@pytest.fixture
def toy(tmp_path: Path) -> Dataset:
    return clustered(tmp_path / "toy")


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tests run single-threaded (the machine is shared); the setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
