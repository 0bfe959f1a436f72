"""A factory for small prepared datasets (``tests/_datasets.py``), single-threaded tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from _datasets import write_dataset
from profilerec.data.dataset import Dataset

MakeDataset = Callable[..., Dataset]


@pytest.fixture
def make_dataset(tmp_path: Path) -> MakeDataset:
    """``make_dataset(sequences, **kw)`` -> a loaded Dataset in a fresh tmp folder."""
    counter = iter(range(1_000_000))

    def make(sequences: dict[str, list[str]], **kwargs: object) -> Dataset:
        return write_dataset(tmp_path / f"ds{next(counter)}", sequences, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread."""
