"""``--engine`` reaches ProEx's and PtE's generation: a Ray flag without it is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bad_input._writes import refused


@pytest.mark.parametrize("command", ["proex-profiles", "pte-profiles"])
def test_ray_flags_need_the_ray_engine(
    cli: Any, demo_dataset: Path, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "out"
    refused(cli(command, demo_dataset, "--out", out, "--worker-gpus", "1"), "need --engine ray")
    refused(cli(command, demo_dataset, "--out", out, "--engine", "gpu"), "--engine must be")
