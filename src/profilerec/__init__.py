"""profilerec: textual user profiles that people can read and retrieval systems can use."""

from __future__ import annotations

__version__ = "0.1.0"
