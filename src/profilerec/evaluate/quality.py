"""``profile_quality`` in evaluate's metrics.json: per profile set, the figures of
``profilerec.profile.quality`` over the evaluated examples."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.profile.quality import profile_quality


def history_texts(ds: Dataset, examples: pl.DataFrame) -> list[str]:
    """Each example's whole history as one text: titles, review titles and own reviews."""
    return [
        "\n".join(f"{e.title} {e.review_title} {e.review_text}" for e in entries)
        for entries in ds.history_entries(examples)
    ]


def quality_blocks(
    ds: Dataset,
    examples: pl.DataFrame,
    texts: dict[str, list[str]],
    vectors: dict[str, np.ndarray | None],
    item_texts: list[str],
) -> dict[str, dict[str, Any]]:
    """Profile set name -> its quality block; ``texts[name]`` aligned with ``examples``."""
    if not texts:
        return {}
    histories = history_texts(ds, examples)
    return {
        name: profile_quality(profiles, histories, item_texts, vectors.get(name))
        for name, profiles in texts.items()
    }
