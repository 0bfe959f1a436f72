"""Tiny prepared datasets with a planted structure, and profile vectors that encode it.

Leave-last-out like ``prepare``: per user the last item is the test target, the second
last the validation target, earlier positions (from 1) are training examples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _datasets import write_dataset
from profilerec.data.dataset import Dataset


def clustered(
    root: Path, *, n_users: int = 40, per_cluster: int = 12, length: int = 8, seed: int = 0
) -> Dataset:
    """Two clusters: even users only take items ``a*``, odd users only ``b*`` (random order)."""
    rng = np.random.default_rng(seed)
    clusters = {c: [f"{c}{j:02d}" for j in range(per_cluster)] for c in "ab"}
    sequences = {
        f"u{n:03d}": list(rng.permutation(clusters["ab"[n % 2]])[:length]) for n in range(n_users)
    }
    return write_dataset(root, sequences, catalogue=clusters["a"] + clusters["b"])


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
def _single_thread(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (the machine is shared)."""
