"""What ``profilerec serve`` imports before uvicorn binds its port (issue 33): no torch, no
transformers, no evaluate/recsys stack, so /health and /ready answer from the first seconds;
the models and those stacks load in the loading thread (``serve.run.loader``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: Imported only by the loading thread, never before the port binds.
HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "profilerec.evaluate.methods",
    "profilerec.evaluate.registry",
    "profilerec.evaluate.stage",
    "profilerec.recsys",
    "profilerec.serve.ranked",
    "profilerec.serve.recommend",
)


def test_serve_binds_without_the_model_stacks(demo_dataset: Path, tmp_path: Path) -> None:
    """The CLI's path up to ``uvicorn.Server.run``, in a fresh interpreter: the command
    modules, ``serve.run``, the argument checks (``--evaluation``'s metrics.json read and
    checked against the dataset) and the app with its routes."""
    pytest.importorskip("uvicorn")
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"n_items": -1, "metrics": {}}))  # another dataset's
    code = f"""
import json, sys
import profilerec.cli
import profilerec.cli.serve
from profilerec.errors import UserError
from profilerec.serve.app import create_app
from profilerec.serve.run import ServeConfig, check

try:
    check(ServeConfig({str(demo_dataset)!r}, evaluation={str(metrics)!r}, port=0))
except UserError as exc:
    assert "another dataset" in str(exc), exc
else:
    raise AssertionError("check() took another dataset's evaluation")
check(ServeConfig({str(demo_dataset)!r}, port=0))
create_app(lambda: None)
print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
