"""A Ray-backed Embedder: texts cut into chunks, embedded by an actor pool, put back in order.

It has the inner embedder's ``model_id`` and ``dim``, so wrapped in ``CachedEmbedder`` it
shares the on-disk cache with a local run (only misses travel to the cluster) and the
evaluate stage needs no change: ``evaluate --engine ray`` only swaps the embedder.
Each ``embed`` call is one Ray Data job, whose actors load the model afresh (a few seconds
for MiniLM); ``CachedEmbedder`` calls it once per 4,096 misses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from profilerec.embed.base import Embedder
from profilerec.engines.ray_cluster import (
    RayOptions,
    ensure_ray,
    get_user_errors,
    quiet_data_context,
)
from profilerec.engines.ray_profile import _set_threads

EmbedderFactory = Callable[[], Embedder]


def _identity(factory: EmbedderFactory) -> tuple[str, int]:
    embedder = factory()
    return embedder.model_id, int(embedder.dim)


class _EmbedActor:
    def __init__(self, factory: EmbedderFactory, cpus: float) -> None:
        _set_threads(cpus)
        self.embedder = factory()

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = np.asarray(self.embedder.embed([str(t) for t in rows["text"]]), np.float32)
        return {"i": np.asarray(rows["i"]), "vec": vectors}


class RayEmbedder:
    """Embeds on a Ray actor pool; ``chunk_size`` texts per actor call.

    ``model_id`` and ``dim`` come from one Ray task that builds the embedder once, so the
    driver never loads the model.
    """

    def __init__(
        self, factory: EmbedderFactory, options: RayOptions | None = None, *, chunk_size: int = 256
    ) -> None:
        self.factory = factory
        self.options = options or RayOptions()
        self.chunk_size = chunk_size
        self.ray = ensure_ray(self.options)
        probe = self.ray.remote(
            num_cpus=self.options.cpus_per_worker, num_gpus=self.options.gpus_per_worker
        )(_identity)
        self.model_id, self.dim = get_user_errors(self.ray, probe.remote(factory))  # type: ignore[misc]

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        quiet_data_context()
        items: list[dict[str, Any]] = [{"i": i, "text": t} for i, t in enumerate(texts)]
        blocks = max(1, min(len(items) // self.chunk_size, 4 * self.options.workers))
        out = self.ray.data.from_items(items, override_num_blocks=blocks).map_batches(
            _EmbedActor,
            fn_constructor_kwargs={"factory": self.factory, "cpus": self.options.cpus_per_worker},
            batch_size=self.chunk_size,
            concurrency=self.options.workers,
            num_cpus=self.options.cpus_per_worker,
            num_gpus=self.options.gpus_per_worker,
        )
        result = np.empty((len(texts), self.dim), dtype=np.float32)
        seen = np.zeros(len(texts), dtype=bool)
        for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
            idx = np.asarray(batch["i"], dtype=np.int64)
            result[idx] = np.stack(batch["vec"]) if batch["vec"].dtype == object else batch["vec"]
            seen[idx] = True
        if not seen.all():
            raise RuntimeError(f"Ray returned {int(seen.sum())} of {len(texts)} vectors")
        return result
