"""Load a file of research/ as a module, so its helpers can be tested (research/ is no package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

RESEARCH = Path(__file__).resolve().parents[1] / "research"


def load_script(name: str) -> ModuleType:
    """``name`` is the path below research/ without ``.py``, e.g. ``blue/reward_signal``."""
    path = RESEARCH / f"{name}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
