"""The BlueConfig / RFTConfig defaults before issue 37 made BLUE's the recommended recipe.

Tests written against the old defaults pin them here instead of changing what they test
silently (bf16 was off by default; it is ``auto`` now, which is on where bf16 is native).
"""

from __future__ import annotations

from typing import Any

from profilerec.methods.blue.config import DEFAULTS_BEFORE_37

#: BlueConfig's defaults up to issue 37 (the paper's settings at CPU-sized lengths).
BLUE_BEFORE_37: dict[str, Any] = dict(DEFAULTS_BEFORE_37)

#: RFTConfig's defaults that issue 37 changed.
RFT_BEFORE_37: dict[str, Any] = {"bf16": False}


def old_blue(**options: Any) -> dict[str, Any]:
    """BlueConfig keyword arguments: the old defaults, ``options`` on top."""
    return {**BLUE_BEFORE_37, **options}
