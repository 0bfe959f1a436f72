"""Small prepared datasets written with the canonical schemas, shared by test folders.

Leave-last-out like ``prepare``: per user, the last item is the test target, the second
last the validation target, earlier positions (from 1) are training examples.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

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


def write_dataset(
    root: Path,
    sequences: dict[str, list[str]],
    *,
    catalogue: list[str] | None = None,
    times: dict[str, list[int]] | None = None,
    max_history: int = 20,
    with_valid: bool = True,
) -> Dataset:
    """Write items/interactions/examples/manifest for ``sequences`` (user -> items).

    ``times`` gives each user's timestamps (ms); by default item k is at ``1000 * (k + 1)``.
    Each user's items are stably sorted by time first, as ``prepare`` does, so equal
    timestamps keep the given order. ``with_valid=False`` makes no validation examples.
    """
    catalogue = catalogue or sorted({i for seq in sequences.values() for i in seq})
    items = [
        {
            "item_id": i,
            "title": f"item {i}",
            "description": "",
            "features": [],
            "categories": [],
            "store": "",
            "price": None,
            "details": "",
            "has_meta": True,
        }
        for i in catalogue
    ]
    inter, examples = [], []
    for user, seq in sequences.items():
        stamps = (times or {}).get(user) or [1000 * (k + 1) for k in range(len(seq))]
        pairs = sorted(zip(seq, stamps, strict=True), key=lambda pair: pair[1])
        seq = [item for item, _ in pairs]
        for k, (item, t) in enumerate(pairs):
            inter.append(
                {
                    "user_id": user,
                    "item_id": item,
                    "timestamp": t,
                    "rating": 5.0,
                    "review_title": "",
                    "review_text": "",
                }
            )
            if k == 0:
                continue
            last = k == len(seq) - 1
            split = "test" if last else "valid" if with_valid and k == len(seq) - 2 else "train"
            examples.append(
                {
                    "example_id": len(examples),
                    "user_id": user,
                    "item_id": item,
                    "timestamp": t,
                    "position": k,
                    "history": seq[max(0, k - max_history) : k],
                    "history_len": k,
                    "split": split,
                }
            )
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(items, schema=ITEMS_SCHEMA), root / ITEMS_FILE)
    pq.write_table(
        pa.Table.from_pylist(inter, schema=INTERACTIONS_SCHEMA), root / INTERACTIONS_FILE
    )
    pq.write_table(pa.Table.from_pylist(examples, schema=EXAMPLES_SCHEMA), root / EXAMPLES_FILE)
    (root / MANIFEST_FILE).write_text(json.dumps({"name": root.name, "split": "leave-last-out"}))
    return Dataset.load(root)


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Tiny models train faster on one thread (no intra-op overhead); restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


MakeDataset = Callable[..., Dataset]


@pytest.fixture
def make_dataset(tmp_path: Path) -> MakeDataset:
    """``make_dataset(sequences, **kw)`` -> a loaded Dataset in a fresh tmp folder."""
    counter = iter(range(1_000_000))

    def make(sequences: dict[str, list[str]], **kwargs: object) -> Dataset:
        return write_dataset(tmp_path / f"ds{next(counter)}", sequences, **kwargs)  # type: ignore[arg-type]

    return make
