"""The Embedder protocol: texts in, one vector per text out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to float32 vectors of a fixed dimension (L2-normalised unless stated)."""

    #: Stable identifier of the model, used in cache keys.
    model_id: str
    #: Output dimension.
    dim: int

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """A ``[len(texts), dim]`` float32 array, row i for text i."""
        ...
