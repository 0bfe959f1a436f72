"""RFT's candidates on ``engine: ray`` (``train --method rft --engine ray``).

The policy being trained lives in the driver, so before a round samples, its LoRA adapter
is saved (PEFT ``save_pretrained``, atomically) to ``rounds/round-N/policy/``; each Ray actor
then builds the generator ``profile --adapter`` would: the run's base model in float32 with
that adapter merged (``profile.generators.load_generator``), and runs the same
:class:`~profilerec.methods.rft.sample.CandidateWork` (bf16 autocast included) as the local
engine. The driver writes the part files, so keys, parts and resume are those of the local
engine: a round started on one engine finishes on the other. The policy folder must be
readable at the same path on every node (as ``--adapter`` is for ``profile``).

Ray is imported only here, and only when the engine is ray (the ``ray`` extra).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from profilerec.atomic import atomic_folder
from profilerec.engines.generation import BatchRunner
from profilerec.methods.rft.config import RFTConfig
from profilerec.profile.generators import load_generator

#: The adapter a round samples from (the previous round's result), inside the round's folder.
POLICY_DIR = "policy"
_MARKER = "adapter_config.json"


def ray_options(cfg: RFTConfig) -> Any:
    """The checked ``RayOptions`` of ``cfg``; a missing ray extra is a UserError here, before
    any model loads."""
    from profilerec.engines.ray_cluster import RayOptions, import_ray

    options = RayOptions(
        workers=cfg.workers, address=cfg.ray_address, gpus_per_worker=cfg.worker_gpus
    )
    options.check()
    import_ray()
    return options


def save_policy(model: Any, target: Path) -> Path:
    """The current adapter of ``model`` (a PEFT model), saved atomically to ``target``."""
    with atomic_folder(target, _MARKER, "adapter") as tmp:
        model.save_pretrained(str(tmp))
    return target.resolve()


def policy_factory(source: str, policy: Path, batch_size: int) -> Any:
    """A picklable factory of the round's generator: base model ``source`` (as
    ``load_policy`` resolved it) in float32 with the ``policy`` adapter merged, on a GPU when
    the actor has one (as the local policy is moved to cuda)."""
    return partial(
        load_generator,
        f"transformers:{source}",
        adapter=str(policy),
        batch_size=batch_size,
        dtype="float32",  # the policy's own dtype (load_policy); bf16 is CandidateWork's autocast
        device="auto",
    )


def ray_runner(model: Any, cfg: RFTConfig, source: str, round_folder: Path) -> BatchRunner:
    """Save the policy into ``round_folder`` and return the ``RayRunner`` that samples it."""
    from profilerec.engines.ray_profile import RayRunner

    policy = save_policy(model, round_folder / POLICY_DIR)
    factory = policy_factory(source, policy, cfg.gen_batch_size)
    # the model id is not part of a candidate key (the round's folder is), so no probe task
    return RayRunner(factory, ray_options(cfg), model_id=f"rft-policy:{policy}")
