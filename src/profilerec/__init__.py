"""profilerec: textual user profiles that people can read and retrieval systems can use.

The public API, each name imported on first use (a module ``__getattr__``) so that
``import profilerec`` stays cheap: the CLI's ``--help`` and a user who only wants
``Dataset`` never pay for torch or transformers::

    import profilerec as pr

    ds = pr.prepare("demo", "data")                      # or pr.Dataset.load("data")
    profiler = pr.Profiler.from_spec("transformers")      # or pr.Profiler.from_run("runs/blue")
    profiles = profiler.profile_many(ds, ds.split("test").head(20))
    metrics = pr.evaluate(ds, "sentence-transformers", {"zero_shot": profiles})
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it (the existing stages; nothing is redefined).
#: Only strings here, so no arrow runs from this root to the stages (``data/`` and
#: ``report/`` import ``__version__`` from it); type checkers read ``__init__.pyi``.
_EXPORTS = {
    "Dataset": "profilerec.data.dataset",
    "PrepareConfig": "profilerec.data.prepare_config",
    "prepare": "profilerec.api",
    "Profiler": "profilerec.profile.profiler",
    "ProfilerRun": "profilerec.profile.runs",
    "HistoryFormat": "profilerec.profile.prompts",
    "GenerationConfig": "profilerec.llm.base",
    "load_generator": "profilerec.profile.generators",
    "load_embedder": "profilerec.embed",
    "build_baseline": "profilerec.recsys.baselines",
    "EvaluateConfig": "profilerec.evaluate.stage",
    # the evaluate subpackage, called as a function (evaluate/__init__.py says why)
    "evaluate": "profilerec.evaluate",
}

__all__ = [  # spelled out for linters and readers; a test holds it equal to _EXPORTS
    "Dataset",
    "EvaluateConfig",
    "GenerationConfig",
    "HistoryFormat",
    "PrepareConfig",
    "Profiler",
    "ProfilerRun",
    "__version__",
    "build_baseline",
    "evaluate",
    "load_embedder",
    "load_generator",
    "prepare",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'profilerec' has no attribute {name!r}")
    imported = importlib.import_module(module)
    # a name that is a subpackage (evaluate) is the subpackage, already bound at the root
    value = imported if imported.__name__ == f"{__name__}.{name}" else getattr(imported, name)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
