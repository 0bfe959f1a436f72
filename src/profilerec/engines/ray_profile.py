"""The generation engine on Ray Data: planned batches through an actor pool of generators.

Each actor builds its Generator once from a picklable factory (any backend spec: the
bundled transformers model, ``vllm:MODEL`` on a GPU node, ``openai:MODEL@URL`` pointing
at a vLLM server). One Ray Data row is one planned batch of the stage, so an actor sees
exactly the batch the local engine would and greedy texts match it; the batch's work (a
GenerationConfig, or e.g. ProEx's chain) is shipped to the actors, so every job on the
engine runs here unchanged. Actors only return
texts; the driver writes the part files (``profile.stage``), so workers need no shared
filesystem and a batch that Ray redoes after a killed actor overwrites its own part file.
Ray Data's actor pools restart dead actors and retry their tasks by default.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from profilerec.engines.generation import Batch, Work, do_work
from profilerec.engines.ray_cluster import (
    RayOptions,
    ensure_ray,
    get_user_errors,
    quiet_data_context,
)
from profilerec.llm.base import Generator

GeneratorFactory = Callable[[], Generator]


def _model_id(factory: GeneratorFactory) -> str:
    return factory().model_id


def _set_threads(cpus: float) -> None:
    if cpus >= 1:
        import torch

        torch.set_num_threads(int(cpus))


class _GenerateActor:
    """One Ray actor: a generator built once, then one planned batch per call."""

    def __init__(self, factory: GeneratorFactory, config: Work, cpus: float) -> None:
        _set_threads(cpus)
        self.generator = factory()
        self.config = config

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [
            json.dumps(do_work(self.generator, json.loads(p), self.config), ensure_ascii=False)
            for p in rows["prompts"]
        ]
        return {"batch": np.asarray(rows["batch"]), "texts": np.asarray(texts, dtype=object)}


class RayRunner:
    """A ``BatchRunner`` over a Ray actor pool; pass it to any engine job as the generator.

    Args:
        factory: Builds the generator inside each actor (e.g. ``partial(load_generator, spec)``).
        options: Cluster address, pool size and resources per actor.
        model_id: The generator's ``model_id`` when known; otherwise one Ray task builds the
            generator once to read it (the driver never loads the model).
    """

    def __init__(
        self,
        factory: GeneratorFactory,
        options: RayOptions | None = None,
        *,
        model_id: str | None = None,
    ) -> None:
        self.factory = factory
        self.options = options or RayOptions()
        self.ray = ensure_ray(self.options)
        if model_id is None:
            probe = self.ray.remote(
                num_cpus=self.options.cpus_per_worker, num_gpus=self.options.gpus_per_worker
            )(_model_id)
            model_id = str(get_user_errors(self.ray, probe.remote(factory)))
        self.model_id = model_id

    def run(self, batches: list[Batch], config: Work) -> Iterator[tuple[int, list[str]]]:
        if not batches:
            return
        quiet_data_context()
        items: list[dict[str, Any]] = [
            {"batch": b, "prompts": json.dumps(p, ensure_ascii=False)} for b, p in batches
        ]
        data = self.ray.data.from_items(items, override_num_blocks=len(items))
        out = data.map_batches(
            _GenerateActor,
            fn_constructor_kwargs={
                "factory": self.factory,
                "config": config,
                "cpus": self.options.cpus_per_worker,
            },
            batch_size=1,
            concurrency=min(self.options.workers, len(items)),
            num_cpus=self.options.cpus_per_worker,
            num_gpus=self.options.gpus_per_worker,
        )
        for row in out.iter_rows():
            yield int(row["batch"]), list(json.loads(row["texts"]))
