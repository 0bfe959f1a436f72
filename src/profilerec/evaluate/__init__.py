"""The evaluate stage (``stage.py``, ``registry.py``, ...); the package itself is callable.

``profilerec.evaluate(dataset, embedder, profiles, ...)`` is the public evaluation function
(:func:`evaluate` below). A plain function of that name cannot stand at the package root
beside this subpackage: importing any ``profilerec.evaluate.*`` module rebinds the root's
``evaluate`` to the subpackage. So the subpackage answers the call itself, and
``import profilerec.evaluate.stage`` keeps working as every import form expects.
"""

from __future__ import annotations

import sys
import tempfile
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from profilerec.data.dataset import Dataset
    from profilerec.embed.base import Embedder
    from profilerec.evaluate.stage import EvaluateConfig


def evaluate(
    dataset: Dataset | str | Path,
    embedder: Embedder | str = "sentence-transformers",
    profiles: Mapping[str, pl.DataFrame] | None = None,
    *,
    out: str | Path | None = None,
    config: EvaluateConfig | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Rank the split's targets by every method and profile set (``profilerec evaluate``);
    returns what ``metrics.json`` holds (``metrics``, ``ci``, ``comparisons``, ``slices``, ...).

    ``run_evaluate`` wants a loaded dataset, an embedder, a config and a folder because the
    CLI always has them; here each has a default. ``profiles``: name -> a profiles frame
    (``Profiler.profile_many``). ``out`` keeps ``metrics.json`` and ``ranks.parquet``;
    without it they go to a temporary folder.
    """
    from profilerec.data.dataset import Dataset
    from profilerec.embed import load_embedder
    from profilerec.evaluate.stage import EvaluateConfig, run_evaluate

    ds = dataset if isinstance(dataset, Dataset) else Dataset.load(dataset)
    emb = load_embedder(embedder) if isinstance(embedder, str) else embedder
    with tempfile.TemporaryDirectory(prefix="profilerec-eval-") as tmp:
        target = tmp if out is None else out
        cfg = config or EvaluateConfig()
        return run_evaluate(ds, emb, target, cfg, dict(profiles or {}), progress=progress)


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
