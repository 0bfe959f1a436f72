"""A hand-checkable embedder shared by test folders: one axis per keyword."""

from __future__ import annotations

import numpy as np

AXES = ["lipstick", "shampoo", "tent", "guitar", "coffee", "socks"]


class KeywordEmbedder:
    """A real (deterministic) embedder: one axis per keyword, so geometry is hand-checkable."""

    model_id = "keywords"
    dim = len(AXES)

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        out = np.full((len(texts), self.dim), 0.05, dtype=np.float32)
        for row, text in enumerate(texts):
            for col, word in enumerate(AXES):
                out[row, col] += text.lower().count(word)
        return out / np.linalg.norm(out, axis=1, keepdims=True)
