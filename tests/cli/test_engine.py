"""``--engine``: bad flags are one-line errors before anything loads; ray writes what local writes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from profilerec.cli.engine import ray_options
from profilerec.errors import UserError


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gpu", 2, None, 0.0), "--engine must be local or ray"),
        (("local", 2, "auto", 0.0), "need --engine ray"),
        (("local", 2, None, 1.0), "need --engine ray"),
        (("ray", 0, None, 0.0), "--workers must be at least 1"),
    ],
)
def test_bad_engine_flags_are_user_errors(args: tuple, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(UserError, match=message):
        ray_options(*args)


def test_local_engine_needs_no_ray() -> None:
    assert ray_options("local", 2, None, 0.0) is None


@pytest.mark.slow
@pytest.mark.ray
def test_profile_command_ray_equals_local(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("ray.data")
    import ray
    from typer.testing import CliRunner

    from profilerec.cli import app

    common = [
        "profile",
        str(demo_dataset),
        "--generator",
        f"transformers:{tiny_lm_dir}",
        "--limit",
        "8",
        "--batch-size",
        "4",
        "--max-new-tokens",
        "4",
        "--dtype",
        "float32",
    ]
    runner = CliRunner()
    try:
        for engine in ("local", "ray"):
            result = runner.invoke(
                app, [*common, "--out", str(tmp_path / engine), "--engine", engine]
            )
            assert result.exit_code == 0, result.output + repr(result.exception)
    finally:
        ray.shutdown()
    frames = [pl.read_parquet(tmp_path / e / "profiles.parquet") for e in ("local", "ray")]
    assert frames[0].height == 8 and frames[0].equals(frames[1])
