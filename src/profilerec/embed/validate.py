"""Input checks shared by the embedder backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from profilerec.errors import UserError


def check_texts(texts: Sequence[object]) -> list[str]:
    """``texts`` as a list, or a UserError naming the first item that is not a string.

    Backends would otherwise fail deep inside a tokenizer or JSON encoder with no hint which
    item was wrong (a missing title read as None is the usual culprit).
    """
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise UserError(f"texts to embed must be strings; item {i} is {type(text).__name__}")
    return cast("list[str]", list(texts))
