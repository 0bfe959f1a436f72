"""Connecting to Ray: a lazy import with a clear error, and one place for the init settings."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from profilerec.errors import UserError

INSTALL_HINT = "pip install 'profilerec[ray]' (or: pip install 'ray[data]')"


@dataclass(frozen=True)
class RayOptions:
    """Where to run and how many actors; shared by the profile and embed engines."""

    #: Actors in the pool (each builds its model once).
    workers: int = 2
    #: ``None`` starts a local Ray on this machine; ``auto`` or ``ray://HOST:PORT`` joins a cluster.
    address: str | None = None
    #: CPUs each actor reserves.
    cpus_per_worker: float = 1.0
    #: GPUs each actor reserves (e.g. 1 on GPU nodes running vLLM or transformers on cuda).
    gpus_per_worker: float = 0.0
    #: Object store of a local Ray, bytes: small, since only prompts and texts travel.
    object_store_memory: int = 500 * 1024**2

    def check(self) -> None:
        if self.workers < 1:
            raise UserError(f"--workers must be at least 1, got {self.workers}")
        if self.cpus_per_worker < 0 or self.gpus_per_worker < 0:
            raise UserError("CPUs and GPUs per worker must not be negative")


def import_ray() -> ModuleType:
    try:
        import ray
        import ray.data  # the engines need Ray Data, not only Ray core
    except ImportError as err:
        raise UserError(
            f"--engine ray needs Ray Data, which is not installed: {INSTALL_HINT}"
        ) from err
    return ray


def ensure_ray(options: RayOptions) -> ModuleType:
    """Ray, initialised once: joined to ``options.address`` or started locally on 127.0.0.1."""
    options.check()
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if options.address:
        try:
            ray.init(address=options.address, log_to_driver=False)
        except (ConnectionError, RuntimeError) as err:
            raise UserError(f"cannot join the Ray cluster at {options.address}: {err}") from err
        return ray
    ray.init(
        num_cpus=max(2, int(options.workers * options.cpus_per_worker + 0.999)),
        include_dashboard=False,
        object_store_memory=options.object_store_memory,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    return ray


def quiet_data_context() -> None:
    """No Ray Data progress bars: the stage draws its own."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.enable_operator_progress_bars = False


def get_user_errors(ray: ModuleType, ref: object) -> object:
    """``ray.get(ref)``, re-raising a UserError raised inside the task as itself."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, UserError):
            raise UserError(str(cause)) from err
        raise
