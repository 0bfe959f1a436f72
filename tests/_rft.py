"""The small RFT candidate setup shared by the RFT tests (local, in-process Ray, real Ray):
a tiny embedder's reward over 12 items and five training rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from profilerec.rewards import EmbeddingReward


def candidate_setup(
    st_dir: Path, prompt: str = "Describe customer {e}."
) -> tuple[EmbeddingReward, list[dict[str, Any]]]:
    """``EmbeddingReward`` of the sentence-transformers model in ``st_dir`` over ``item 0..11``,
    and five rows whose prompt is ``prompt`` formatted with the example id."""
    from profilerec.embed import load_embedder

    emb = load_embedder(f"sentence-transformers:{st_dir}")
    items = np.asarray(emb.embed([f"item {i}" for i in range(12)]), dtype=np.float32)
    rows = [
        {
            "example_id": e,
            "prompt": [{"role": "user", "content": prompt.format(e=e)}],
            "positives": [e % 12],
            "history_idx": [(e + 1) % 12],
        }
        for e in range(5)
    ]
    return EmbeddingReward(emb, items, n_negatives=0), rows
