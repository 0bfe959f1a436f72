"""OpenAIEmbedder's batches print plain progress lines when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from _progress import check_lines
from profilerec.embed.openai_compat import OpenAIEmbedder
from profilerec.progress import INTERVAL_ENV


def test_batches_print_lines(
    openai_server: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(INTERVAL_ENV, "0")  # a line on every batch
    server = openai_server(dim=4)
    emb = OpenAIEmbedder("test-model", server.base_url, batch_size=2, retry_backoff=0.01)
    out = emb.embed(["apple", "pear", "banana", "plum", "peach"], progress=True)
    assert out.shape == (5, 4)
    lines = check_lines(capsys.readouterr().err, "embedding batches", 3)
    assert len(lines) == 4  # started, then one per batch
