"""A factory for small prepared datasets (``tests/_datasets.py``), single-threaded tests."""

from __future__ import annotations

import pytest

from _datasets import make_dataset  # noqa: F401  (a fixture shared by test folders)


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread."""
