"""A local Ray for the engine tests (2 CPUs, small object store), shut down afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def local_ray() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    from profilerec.engines.ray_cluster import RayOptions, ensure_ray

    ensure_ray(RayOptions(workers=2))
    yield
    ray.shutdown()
