"""The CLI's shared model loaders refuse flags that do not apply before loading anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from profilerec.cli.loaders import make_generator
from profilerec.errors import UserError


def test_dtype_and_adapter_are_refused_for_non_transformers_generators(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--dtype works only with the transformers generator"):
        make_generator("openai:m1@http://127.0.0.1:9/v1", None, 4, "float32")
    with pytest.raises(UserError, match="--adapter works only with the transformers generator"):
        make_generator("openai:m1@http://127.0.0.1:9/v1", tmp_path, 4)
