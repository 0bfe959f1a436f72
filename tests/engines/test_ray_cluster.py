"""Ray stays optional: a missing install is one clear error, and bad options are refused."""

from __future__ import annotations

from typing import Any

import pytest

from profilerec.engines.ray_cluster import RayOptions
from profilerec.errors import UserError


def test_missing_ray_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from profilerec.engines import ray_cluster
    from profilerec.errors import UserError

    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(UserError, match="pip install"):
        ray_cluster.import_ray()


def test_bad_options_are_refused_before_ray_starts() -> None:
    with pytest.raises(UserError, match="--workers"):
        RayOptions(workers=0).check()
    with pytest.raises(UserError, match="negative"):
        RayOptions(gpus_per_worker=-1).check()
