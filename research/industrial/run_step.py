"""``RUN:STEP`` -> a training run's validation file, shared by the validation scripts here.

Every BLUE / RLPF / judge run keeps ``validation/step-NNNNNN.parquet`` per validated step.
``RUN:STEP`` names one; a bare ``RUN`` (where ``allow_best``) means the step ``RUN/best.json``
names. A missing run or step exits with one line listing the steps that were validated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def run_step(spec: str, *, allow_best: bool = False) -> tuple[Path, int, Path]:
    """(run folder, step, validation parquet) of ``spec``."""
    head, _, tail = spec.rpartition(":")
    if tail.isdigit():
        run, step = Path(head), int(tail)
    elif allow_best and (Path(spec) / "best.json").exists():
        run = Path(spec)
        step = int(json.loads((run / "best.json").read_text())["step"])
    else:
        form = "RUN[:STEP] (a run with best.json)" if allow_best else "RUN:STEP"
        sys.exit(f"error: {spec!r} is not {form}")
    path = run / "validation" / f"step-{step:06d}.parquet"
    if not path.exists():
        steps = sorted(p.stem for p in (run / "validation").glob("step-*.parquet"))
        sys.exit(f"error: {path} not found (validated steps: {steps})")
    return run, step, path
